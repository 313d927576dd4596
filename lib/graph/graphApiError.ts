/** A Graph request that failed, with Graph's own error code and message kept for the user. */
export class GraphApiError extends Error {
	override name = 'GraphApiError';

	constructor(
		readonly method: string,
		readonly path: string,
		/** 0 when no HTTP answer came back (network error, timeout). */
		readonly status: number,
		readonly code: string,
		readonly graphMessage: string,
		readonly retryAfterSeconds?: number,
		/** Graph's `request-id` for this answer: what Microsoft support asks for. */
		readonly requestId?: string,
		/** The `client-request-id` we sent, which Graph logs with the request. */
		readonly clientRequestId?: string,
	) {
		super(
			`${
				status
					? `Microsoft Graph answered ${status} ${code} to ${method} ${path}: ${graphMessage}`
					: `Microsoft Graph could not be reached for ${method} ${path}: ${graphMessage}`
			}${requestIdsText(requestId, clientRequestId)}`,
		);
	}

	/** "request-id …, client-request-id …" for messages that quote Graph's answer in their own words. */
	get requestIds(): string {
		return requestIdsText(this.requestId, this.clientRequestId).replace(/^ \(|\)$/g, '');
	}

	get isRetryable(): boolean {
		return this.status === 0 || this.status === 429 || this.status >= 500;
	}
}

function requestIdsText(requestId: string | undefined, clientRequestId: string | undefined): string {
	const ids = [
		requestId ? `request-id ${requestId}` : '',
		clientRequestId ? `client-request-id ${clientRequestId}` : '',
	].filter(Boolean);
	return ids.length > 0 ? ` (${ids.join(', ')})` : '';
}
