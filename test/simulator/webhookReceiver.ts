import type { IncomingMessage, ServerResponse } from 'http';
import { cachedServerCertificate } from './testCa';
import { listenTls } from './tlsServer';
import { readBody, sleep } from './httpIo';

/**
 * A stand-in notification endpoint over HTTPS (test-CA certificate), for tests of the simulator itself and
 * for any test that needs a webhook without n8n. By default it behaves like a correct endpoint: echoes
 * validation tokens as text/plain and answers notifications 202; `respond` overrides that per request.
 */
export interface ReceivedRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	headers: Record<string, string | string[] | undefined>;
	body: string;
	time: number;
}

export interface WebhookReceiverOptions {
	/** Take over the answer for a request; return true when handled. */
	respond?: (req: ReceivedRequest, res: ServerResponse) => Promise<boolean | void> | boolean | void;
	/** Delay every answer (e.g. to exceed a validation timeout). */
	delayMs?: number;
}

export interface WebhookReceiver {
	url: string;
	received: ReceivedRequest[];
	validations(): ReceivedRequest[];
	notifications(): ReceivedRequest[];
	close(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
	const cert = cachedServerCertificate();
	const received: ReceivedRequest[] = [];
	const listener = await listenTls(cert, (req: IncomingMessage, res: ServerResponse) => {
		void (async () => {
			try {
				const url = new URL(req.url ?? '/', 'https://receiver.invalid');
				const entry: ReceivedRequest = {
					method: req.method ?? 'GET',
					path: url.pathname,
					query: Object.fromEntries(url.searchParams),
					headers: req.headers,
					body: await readBody(req),
					time: Date.now(),
				};
				received.push(entry);
				if (options.delayMs) await sleep(options.delayMs);
				if (res.destroyed) return;
				if (options.respond && (await options.respond(entry, res))) return;
				const token = url.searchParams.get('validationToken');
				if (token !== null) {
					res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
					res.end(token);
					return;
				}
				res.writeHead(202);
				res.end();
			} catch {
				if (!res.headersSent && !res.destroyed) {
					res.writeHead(500);
					res.end();
				}
			}
		})();
	});
	return {
		url: `${listener.baseUrl}/webhook`,
		received,
		validations: () => received.filter((r) => r.query.validationToken !== undefined),
		notifications: () => received.filter((r) => r.query.validationToken === undefined),
		close: () => listener.close(),
	};
}
