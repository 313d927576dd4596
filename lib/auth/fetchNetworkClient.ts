import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/**
 * MSAL's built-in client sets no timeout on the token POST, so a login host that never answers would
 * hang an activation. Same fetch (and so the same NODE_EXTRA_CA_CERTS trust), with a deadline.
 */
export class FetchNetworkClient implements INetworkModule {
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
		const response = await fetch(url, {
			method,
			headers: options?.headers,
			body: method === 'POST' ? (options?.body ?? '') : undefined,
			signal: AbortSignal.timeout(timeoutMs),
		});
		const raw = await response.text();
		let body: T;
		try {
			body = JSON.parse(raw) as T;
		} catch {
			throw new Error(
				`${new URL(url).host} answered HTTP ${response.status} with a body that is not JSON, so it is not a Microsoft identity endpoint`,
			);
		}
		const headers: Record<string, string> = {};
		response.headers.forEach((value, key) => {
			headers[key] = value;
		});
		return { headers, body, status: response.status };
	}
}
