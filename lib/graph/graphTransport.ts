import type { IHttpRequestOptions } from 'n8n-workflow';

import { sendHttpsRequest } from '../http/sendHttpsRequest';
import type { HttpRequest } from './graphClient';

/** Longest Graph answer read: a call record with sessions and segments is a few MiB at most. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface GraphTransportResponse {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

/**
 * Graph requests on node:https with its global agent (lib/http/sendHttpsRequest.ts), so that the many reads a
 * burst of call records costs reuse a few TLS connections. n8n's HTTP helper cannot: in n8n 2.41 it builds a new
 * agent for every request (`setAxiosAgents` in @n8n/backend-network) and accepts none from the caller. With proxy
 * variables set, the global agent is n8n's proxy agent, as for its helper. MSAL's token requests take it too.
 *
 * Only what GraphClient sends: a JSON body, the full response, no redirects, HTTP errors as responses.
 */
export const graphTransport: HttpRequest = async (options: IHttpRequestOptions) => {
	const target = new URL(options.url);
	if (target.protocol !== 'https:') throw new Error(`Microsoft Graph must be https://, not ${target.protocol}//${target.host}`);
	const body = options.body === undefined ? undefined : JSON.stringify(options.body);
	const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		headers['Content-Length'] = String(Buffer.byteLength(body));
	}
	const answer = await sendHttpsRequest(target, {
		method: options.method ?? 'GET',
		headers,
		body,
		timeoutMs: options.timeout ?? 30_000,
		maxResponseBytes: MAX_RESPONSE_BYTES,
	});
	return { statusCode: answer.status, headers: answer.headers, body: parseJson(answer.text) } satisfies GraphTransportResponse;
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
