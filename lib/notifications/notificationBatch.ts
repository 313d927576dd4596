/** Graph's POST body: `{ value: changeNotification[], validationTokens?: string[] }`. */
export interface NotificationBatch {
	items: Array<Record<string, unknown>>;
	validationTokens: string[];
	/** Entries of value[] that are not objects: counted, never processed. */
	malformedCount: number;
	/** Entries of value[] past MAX_ITEMS_PER_REQUEST: never looked at. */
	beyondCapCount: number;
}

/**
 * How many entries of one request are looked at. Graph batches a few hundred notifications at most per
 * POST; a request with more is not Graph's, and considering every entry of a 16 MiB body would cost n8n's
 * event loop seconds before the answer.
 */
export const MAX_ITEMS_PER_REQUEST = 1000;
/** Graph sends one token per app and tenant in the batch: a handful at most. More is refused, never truncated. */
export const MAX_VALIDATION_TOKENS = 16;

export class MalformedBatchError extends Error {
	override name = 'MalformedBatchError';
}

export function parseNotificationBatch(body: unknown): NotificationBatch {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw new MalformedBatchError('The body is not a JSON object');
	}
	const { value, validationTokens } = body as { value?: unknown; validationTokens?: unknown };
	if (!Array.isArray(value)) throw new MalformedBatchError('The body has no "value" array');
	const considered = value.length > MAX_ITEMS_PER_REQUEST ? value.slice(0, MAX_ITEMS_PER_REQUEST) : value;
	const items = considered.filter(
		(item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item),
	);
	return {
		items,
		validationTokens: Array.isArray(validationTokens)
			? validationTokens.slice(0, MAX_VALIDATION_TOKENS + 1).filter((token): token is string => typeof token === 'string')
			: [],
		malformedCount: considered.length - items.length,
		beyondCapCount: value.length - considered.length,
	};
}
