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
		readonly requestId?: string,
	) {
		super(
			status
				? `Microsoft Graph answered ${status} ${code} to ${method} ${path}: ${graphMessage}`
				: `Microsoft Graph could not be reached for ${method} ${path}: ${graphMessage}`,
		);
	}

	get isRetryable(): boolean {
		return this.status === 0 || this.status === 429 || this.status >= 500;
	}
}
