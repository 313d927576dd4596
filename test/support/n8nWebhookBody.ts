import { createRequire } from 'node:module';
import { parse as parseQueryString } from 'node:querystring';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { Request } from 'express';
import { jsonParse } from 'n8n-workflow';
import getRawBody from 'raw-body';

/**
 * How n8n 2.41.1 reads a production or test webhook's body before it calls the node's webhook()
 * (packages/cli: middlewares/body-parser.ts rawBodyReader + parseBody, called from
 * webhooks/webhook-helpers.ts parseRequestBody; errors answered by webhook-request-handler.ts through
 * response-helper.ts sendErrorResponse). No body-parsing middleware runs before webhooks, so a request
 * without a body reaches the node with `body` undefined.
 *
 * - Content type parsed by @n8n/backend-network's parseIncomingMessage (type lower-cased, parameters
 *   dropped, charset default utf-8).
 * - Node typeVersion > 1: only application/json, text/plain, application/x-www-form-urlencoded and
 *   XML bodies are read; anything else reaches the node unread.
 * - Raw body through raw-body with limit `${N8N_PAYLOAD_SIZE_MAX ?? 16}mb` and the Content-Length.
 *   Over the limit, raw-body's 413 error is not one of n8n's ResponseErrors, so executeWebhook turns
 *   it into OperationalError "There was a problem executing the workflow": HTTP 500.
 * - A body that does not parse: UnprocessableRequestError "Failed to parse request body": HTTP 422
 *   `{ code: 422, message, hint }`.
 * Multipart and XML bodies are not modelled (Graph sends neither): multipart is refused here.
 */
export type WebhookBodyOutcome = { ok: true } | { ok: false; status: number; body: Record<string, unknown> };

const requireFromCore = createRequire(require.resolve('n8n-core'));
const { parseIncomingMessage } = requireFromCore('@n8n/backend-network') as {
	parseIncomingMessage: (message: Request) => void;
};

/** What parseIncomingMessage sets on the request. */
type ParsedRequest = Request & { contentType?: string; encoding?: BufferEncoding };

const DEFAULT_PAYLOAD_SIZE_MAX_MIB = 16;

function payloadSizeMaxMiB(): number {
	const configured = Number(process.env.N8N_PAYLOAD_SIZE_MAX);
	return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_PAYLOAD_SIZE_MAX_MIB;
}

function isParsableContentType(contentType: string | undefined): boolean {
	if (!contentType) return false;
	return (
		contentType.startsWith('application/json') ||
		contentType.startsWith('text/plain') ||
		contentType.startsWith('application/x-www-form-urlencoded') ||
		contentType.endsWith('/xml') ||
		contentType.endsWith('+xml')
	);
}

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

const PROBLEM_EXECUTING = { ok: false, status: 500, body: { code: 0, message: 'There was a problem executing the workflow' } } as const;

export async function readWebhookBody(request: Request, nodeTypeVersion: number): Promise<WebhookBodyOutcome> {
	parseIncomingMessage(request);
	const req = request as ParsedRequest;
	// Express 5 sets no body without a parser; n8n's webhook route has none in front of it.
	req.body = undefined;
	const { contentType } = req;
	if (contentType?.startsWith('multipart/') || contentType?.endsWith('/xml') || contentType?.endsWith('+xml')) {
		throw new Error(`The harness does not model n8n's ${contentType} parsing`);
	}
	if (nodeTypeVersion > 1 && !isParsableContentType(contentType)) return { ok: true };

	let stream: Readable = req;
	let length: string | undefined;
	switch (req.headers['content-encoding']) {
		case 'gzip':
			stream = req.pipe(createGunzip());
			break;
		case 'deflate':
			stream = req.pipe(createInflate());
			break;
		default:
			length = req.headers['content-length'];
	}
	let rawBody: Buffer;
	try {
		rawBody = await getRawBody(stream, { length, limit: `${payloadSizeMaxMiB()}mb` });
	} catch {
		// raw-body's 413 is not a ResponseError, so n8n answers its generic 500. (A client that aborted
		// mid-body gets n8n's 400, which nobody reads.)
		return PROBLEM_EXECUTING;
	}
	if (rawBody.length === 0) return { ok: true };
	const text = rawBody.toString(req.encoding ?? 'utf-8');
	try {
		if (contentType === 'application/json') req.body = jsonParse(stripBom(text));
		else if (contentType === 'application/x-www-form-urlencoded') {
			req.body = parseQueryString(stripBom(text), undefined, undefined, { maxKeys: 1000 });
		} else if (contentType === 'text/plain') req.body = text;
	} catch (error) {
		return { ok: false, status: 422, body: { code: 422, message: 'Failed to parse request body', hint: (error as Error).message } };
	}
	return { ok: true };
}
