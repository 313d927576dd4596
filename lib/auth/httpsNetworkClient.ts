import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

import { sendHttpsRequest } from '../http/sendHttpsRequest';

/** Longest token-endpoint answer we read; Entra's are a few KiB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * MSAL's network module, on node:https with its default (global) agent. n8n's main process replaces
 * that agent at start-up with one that honours HTTP(S)_PROXY and NO_PROXY (installGlobalProxyAgent in
 * @n8n/backend-network), the same variables n8n's HTTP helper reads for the Graph calls; so token
 * requests take the same proxy as Graph requests. (Global fetch would not: it ignores those agents.)
 * MSAL's own client sets no timeout, so a login host that never answers would hang an activation.
 */
export class HttpsNetworkClient implements INetworkModule {
	constructor(private readonly timeoutMs: number) {}

	sendGetRequestAsync<T>(
		url: string,
		options?: NetworkRequestOptions,
		timeout?: number,
	): Promise<NetworkResponse<T>> {
		return this.send<T>(url, 'GET', options, timeout ?? this.timeoutMs);
	}

	sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
		return this.send<T>(url, 'POST', options, this.timeoutMs);
	}

	private async send<T>(
		url: string,
		method: 'GET' | 'POST',
		options: NetworkRequestOptions | undefined,
		timeoutMs: number,
	): Promise<NetworkResponse<T>> {
		const target = new URL(url);
		if (target.protocol !== 'https:') throw new Error(`The login host must be https://, not ${target.protocol}//${target.host}`);
		const body = method === 'POST' ? (options?.body ?? '') : undefined;
		const answer = await sendHttpsRequest(target, {
			method,
			headers: {
				...options?.headers,
				...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
			},
			body,
			timeoutMs,
			maxResponseBytes: MAX_RESPONSE_BYTES,
		});
		const status = answer.status;
		const raw = answer.text;
		const headers: Record<string, string> = {};
		for (const [key, value] of Object.entries(answer.headers)) {
			if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
		}
		let parsed: T;
		try {
			parsed = JSON.parse(raw) as T;
		} catch {
			throw new Error(
				`${target.host} answered HTTP ${status} with a body that is not JSON, so it is not a Microsoft identity endpoint`,
			);
		}
		return { headers, body: parsed, status };
	}
}
