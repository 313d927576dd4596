import { GraphHttpError } from './errors';
import { newGuid } from './ids';
import { post, PostTimeoutError } from './httpsClient';

/**
 * Graph's endpoint validation: before a subscription exists, POST `<url>?validationToken=<token>` with an
 * empty text/plain body; the endpoint has to answer 200, text/plain, body = the decoded token, in time.
 * Any query string already on the URL is kept (Graph preserves it).
 */
export interface HandshakeOptions {
	caCertPem: string;
	timeoutMs: number;
	/** The Graph error code for a failed validation (observed: InvalidRequest). */
	errorCode: string;
	/** Refuse answers whose Content-Type is not text/plain. */
	requireTextPlain: boolean;
}

export interface HandshakeRecord {
	url: string;
	token: string;
	status?: number;
	contentType?: string;
	body?: string;
	elapsedMs: number;
	outcome: 'ok' | 'failed' | 'timeout' | 'mismatch' | 'error';
}

export const HANDSHAKE_MESSAGES = {
	notOk: 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
	timeout: 'Subscription validation request timed out.',
	mismatch: 'Subscription validation request failed. Response must exactly match validationToken query parameter.',
	contentType: "Subscription validation request failed. Response must have Content-Type 'text/plain'.",
} as const;

/** The token text Graph sends: opaque, with spaces and colons, so decoding mistakes show up. */
export function newValidationToken(): string {
	return `Validation: Testing client application reachability for subscription Request-Id: ${newGuid()}`;
}

export async function validateEndpoint(url: string, o: HandshakeOptions, record: (r: HandshakeRecord) => void): Promise<void> {
	const token = newValidationToken();
	const target = new URL(url);
	target.searchParams.append('validationToken', token);
	const started = performance.now();
	let result;
	try {
		result = await post(target.toString(), {
			body: '',
			headers: { 'Content-Type': 'text/plain; charset=utf-8' },
			caCertPem: o.caCertPem,
			timeoutMs: o.timeoutMs,
		});
	} catch (error) {
		const timedOut = error instanceof PostTimeoutError;
		record({ url, token, elapsedMs: performance.now() - started, outcome: timedOut ? 'timeout' : 'error' });
		throw new GraphHttpError(400, o.errorCode, timedOut ? HANDSHAKE_MESSAGES.timeout : HANDSHAKE_MESSAGES.notOk);
	}
	const contentType = String(result.headers['content-type'] ?? '');
	const base = { url, token, status: result.status, contentType, body: result.bodyText, elapsedMs: result.elapsedMs };
	if (result.status !== 200) {
		record({ ...base, outcome: 'failed' });
		throw new GraphHttpError(400, o.errorCode, HANDSHAKE_MESSAGES.notOk);
	}
	if (o.requireTextPlain && !contentType.toLowerCase().startsWith('text/plain')) {
		record({ ...base, outcome: 'mismatch' });
		throw new GraphHttpError(400, o.errorCode, HANDSHAKE_MESSAGES.contentType);
	}
	if (result.bodyText !== token) {
		record({ ...base, outcome: 'mismatch' });
		throw new GraphHttpError(400, o.errorCode, HANDSHAKE_MESSAGES.mismatch);
	}
	record({ ...base, outcome: 'ok' });
}
