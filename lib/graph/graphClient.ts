import { randomUUID } from 'node:crypto';
import type { IDataObject, IHttpRequestMethods, IHttpRequestOptions, Logger } from 'n8n-workflow';

import type { AppCredential } from '../auth/appCredential';
import { acquireGraphToken, callRecordPaceOf, forgetGraphClient } from '../auth/graphTokenProvider';
import { callRecordRequestOf } from './callRecordPace';
import { GraphApiError } from './graphApiError';

/** n8n's `this.helpers.httpRequest`, from whichever context the caller runs in, or graphTransport for the reads. */
export type HttpRequest = (options: IHttpRequestOptions) => Promise<unknown>;

export interface GraphClientOptions {
	apiVersion: string;
	/** Waits between retries; tests pass a recorder, production n8n's sleep. */
	sleep: (ms: number) => Promise<void>;
	maxAttempts?: number;
	/** Longest Retry-After we wait in place; longer ones are handed to the caller to schedule. */
	maxRetryAfterMs?: number;
	timeoutMs?: number;
	/** Where the call-record pace says when it holds requests back, and a 429 that still came. */
	logger?: Pick<Logger, 'info' | 'warn'>;
}

interface FullResponse {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

const DEFAULT_MAX_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 1000;

function header(headers: FullResponse['headers'], name: string): string | undefined {
	const value = headers[name] ?? headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

function retryAfterSeconds(headers: FullResponse['headers']): number | undefined {
	const value = header(headers, 'retry-after');
	if (value === undefined) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds) && seconds >= 0) return seconds;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function graphErrorOf(body: unknown): { code: string; message: string; requestId?: string } {
	const error = (body as { error?: IDataObject } | undefined)?.error;
	if (error && typeof error === 'object') {
		const inner = error.innerError as IDataObject | undefined;
		return {
			code: typeof error.code === 'string' ? error.code : 'UnknownError',
			message: typeof error.message === 'string' ? error.message : 'no message',
			requestId: typeof inner?.['request-id'] === 'string' ? inner['request-id'] : undefined,
		};
	}
	return { code: 'UnknownError', message: typeof body === 'string' && body ? body.slice(0, 300) : 'no message' };
}

/**
 * Microsoft Graph through n8n's HTTP helper, with the app-only token, Graph's error envelope turned
 * into GraphApiError, and Graph's retry rules: Retry-After on 429, backoff on 5xx and network errors,
 * one fresh token on 401. Call-record requests go through the app's CallRecordPace, to stay under
 * Graph's call-record limits.
 */
export class GraphClient {
	private readonly baseUrl: string;

	constructor(
		private readonly httpRequest: HttpRequest,
		private readonly credential: AppCredential,
		private readonly options: GraphClientOptions,
	) {
		this.baseUrl = `${credential.endpoints.graphOrigin}/${options.apiVersion}`;
	}

	/** `pathOrUrl` is relative to the version root, or an absolute @odata.nextLink on the same Graph host. */
	async request<T>(method: IHttpRequestMethods, pathOrUrl: string, body?: IDataObject): Promise<T> {
		const url = this.resolve(pathOrUrl);
		const path = url.slice(this.credential.endpoints.graphOrigin.length);
		const maxAttempts = this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
		let refreshedToken = false;
		const callRecordRequest = callRecordRequestOf(path);
		const pace = callRecordRequest && callRecordPaceOf(this.credential);
		for (let attempt = 1; ; attempt++) {
			const token = await acquireGraphToken(this.credential);
			if (pace) await pace.admit(callRecordRequest, this.options.logger);
			// A fresh ID per HTTP request: Graph logs it, and support finds a request by it.
			const clientRequestId = randomUUID();
			let response: FullResponse;
			try {
				response = (await this.httpRequest({
					method,
					url,
					headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'client-request-id': clientRequestId },
					body,
					json: true,
					returnFullResponse: true,
					ignoreHttpStatusErrors: true,
					disableFollowRedirect: true,
					timeout: this.options.timeoutMs ?? 30_000,
				})) as FullResponse;
			} catch (error) {
				const failure = new GraphApiError(method, path, 0, 'NetworkError', (error as Error).message, undefined, undefined, clientRequestId);
				if (attempt >= maxAttempts) throw failure;
				await this.options.sleep(BACKOFF_BASE_MS * 2 ** (attempt - 1));
				continue;
			}
			if (response.statusCode < 400) return response.body as T;

			const { code, message, requestId } = graphErrorOf(response.body);
			const retryAfter = retryAfterSeconds(response.headers);
			const failure = new GraphApiError(
				method,
				path,
				response.statusCode,
				code,
				message,
				retryAfter,
				header(response.headers, 'request-id') ?? requestId,
				header(response.headers, 'client-request-id') ?? clientRequestId,
			);
			if (response.statusCode === 401 && !refreshedToken) {
				// A cached token can be revoked before it expires (consent withdrawn, secret rotated).
				refreshedToken = true;
				forgetGraphClient(this.credential);
				continue;
			}
			if (pace && response.statusCode === 429) pace.throttled(retryAfter, this.options.logger);
			if (!failure.isRetryable || attempt >= maxAttempts) throw failure;
			const waitMs =
				response.statusCode === 429 && retryAfter !== undefined
					? retryAfter * 1000
					: BACKOFF_BASE_MS * 2 ** (attempt - 1);
			if (waitMs > (this.options.maxRetryAfterMs ?? 30_000)) throw failure;
			await this.options.sleep(waitMs);
		}
	}

	private resolve(pathOrUrl: string): string {
		if (!/^https?:\/\//i.test(pathOrUrl)) return `${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}`;
		// A nextLink must stay on the Graph host: the bearer token goes with it.
		if (!pathOrUrl.startsWith(`${this.credential.endpoints.graphOrigin}/`)) {
			throw new GraphApiError('GET', pathOrUrl, 0, 'UnexpectedHost', 'a paging link pointed away from Microsoft Graph');
		}
		return pathOrUrl;
	}
}
