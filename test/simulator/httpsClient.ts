import { request as httpRequest } from 'http';
import { request as httpsRequest } from 'https';
import { rootCertificates } from 'tls';

/**
 * The simulator's outgoing POSTs (validation handshakes, notification delivery). Trusts the public roots
 * plus the test CA explicitly, so it works whether or not NODE_EXTRA_CA_CERTS is set, and uses no
 * keep-alive agent so nothing lingers after a test.
 */
export interface PostResult {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	bodyText: string;
	elapsedMs: number;
}

export class PostTimeoutError extends Error {}

export interface PostOptions {
	body: string;
	headers: Record<string, string>;
	caCertPem: string;
	timeoutMs: number;
}

export function post(url: string, options: PostOptions): Promise<PostResult> {
	const started = performance.now();
	const target = new URL(url);
	const send = target.protocol === 'http:' ? httpRequest : httpsRequest;
	return new Promise<PostResult>((resolve, reject) => {
		let settled = false;
		const finish = (fn: () => void) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			fn();
		};
		const req = send(
			target,
			{
				method: 'POST',
				headers: { ...options.headers, 'Content-Length': String(Buffer.byteLength(options.body)) },
				agent: false,
				...(target.protocol === 'https:' ? { ca: [...rootCertificates, options.caCertPem] } : {}),
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (chunk: Buffer) => chunks.push(chunk));
				res.on('error', (error) => finish(() => reject(error)));
				res.on('end', () =>
					finish(() =>
						resolve({
							status: res.statusCode ?? 0,
							headers: res.headers,
							bodyText: Buffer.concat(chunks).toString('utf8'),
							elapsedMs: performance.now() - started,
						}),
					),
				);
			},
		);
		// A whole-exchange deadline (not a socket idle timeout): Graph gives the endpoint N seconds in total.
		const timer = setTimeout(() => {
			finish(() => reject(new PostTimeoutError(`No answer within ${options.timeoutMs} ms`)));
			req.destroy();
		}, options.timeoutMs);
		req.on('error', (error) => finish(() => reject(error)));
		req.end(options.body);
	});
}
