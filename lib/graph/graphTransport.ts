import { request } from 'node:https';
import type { IHttpRequestOptions } from 'n8n-workflow';

import type { HttpRequest } from './graphClient';

/** Longest Graph answer read: a call record with sessions and segments is a few MiB at most. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface GraphTransportResponse {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

/**
 * Graph requests on node:https with its global agent, so that the many reads a burst of call records costs reuse
 * a few TLS connections. n8n's HTTP helper cannot: in n8n 2.41 it builds a new agent for every request
 * (`setAxiosAgents` in @n8n/backend-network) and accepts none from the caller. The global agent is the one n8n
 * replaces at start-up with an agent that honours HTTP(S)_PROXY, NO_PROXY and ALL_PROXY (`installGlobalProxyAgent`),
 * the variables its helper reads; without them it is Node's, which keeps connections alive. MSAL's token requests
 * take the same agent (lib/auth/httpsNetworkClient.ts).
 *
 * Only what GraphClient sends: a JSON body, the full response, no redirects, HTTP errors as responses.
 */
export const graphTransport: HttpRequest = (options: IHttpRequestOptions) => {
	const target = new URL(options.url);
	if (target.protocol !== 'https:') return Promise.reject(new Error(`Microsoft Graph must be https://, not ${target.protocol}//${target.host}`));
	const body = options.body === undefined ? undefined : JSON.stringify(options.body);
	const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		headers['Content-Length'] = String(Buffer.byteLength(body));
	}
	const timeoutMs = options.timeout ?? 30_000;
	return new Promise<GraphTransportResponse>((resolve, reject) => {
		const req = request(target, { method: options.method ?? 'GET', headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
			const chunks: Buffer[] = [];
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > MAX_RESPONSE_BYTES) {
					req.destroy(new Error(`${target.host} sent more than ${MAX_RESPONSE_BYTES} bytes`));
					return;
				}
				chunks.push(chunk);
			});
			res.on('error', reject);
			res.on('end', () => {
				const raw = Buffer.concat(chunks).toString('utf8');
				resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: parseJson(raw) });
			});
		});
		req.on('error', (error: Error) =>
			reject(error.name === 'AbortError' || error.name === 'TimeoutError' ? new Error(`${target.host} did not answer within ${timeoutMs} ms`) : error),
		);
		req.end(body);
	});
};

/** Graph answers JSON; an empty body (204) or a proxy's HTML page stays text for the error message. */
function parseJson(raw: string): unknown {
	if (raw === '') return undefined;
	try {
		return JSON.parse(raw) as unknown;
	} catch {
		return raw;
	}
}
