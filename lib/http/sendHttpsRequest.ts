import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

export interface HttpsAnswer {
	status: number;
	headers: IncomingHttpHeaders;
	text: string;
}

/**
 * One request on node:https with its global agent: the agent n8n replaces at start-up with one that honours
 * HTTP(S)_PROXY, NO_PROXY and ALL_PROXY (`installGlobalProxyAgent` in @n8n/backend-network) when any is set,
 * else Node's, which keeps connections alive. The whole exchange has a deadline, and an answer longer than
 * `maxResponseBytes` is cut off with an error.
 */
export function sendHttpsRequest(
	target: URL,
	options: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number; maxResponseBytes: number },
): Promise<HttpsAnswer> {
	return new Promise<HttpsAnswer>((resolve, reject) => {
		const req = request(target, { method: options.method, headers: options.headers, signal: AbortSignal.timeout(options.timeoutMs) }, (res) => {
			const chunks: Buffer[] = [];
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > options.maxResponseBytes) {
					req.destroy(new Error(`${target.host} sent more than ${options.maxResponseBytes} bytes`));
					return;
				}
				chunks.push(chunk);
			});
			res.on('error', reject);
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
		});
		req.on('error', (error: Error) =>
			reject(error.name === 'AbortError' || error.name === 'TimeoutError' ? new Error(`${target.host} did not answer within ${options.timeoutMs} ms`) : error),
		);
		req.end(options.body);
	});
}
