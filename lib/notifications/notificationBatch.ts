/** Graph's POST body: `{ value: changeNotification[], validationTokens?: string[] }`. */
export interface NotificationBatch {
	items: Array<Record<string, unknown>>;
	validationTokens: string[];
	/** Entries of value[] that are not objects: counted, never processed. */
	malformedCount: number;
}

export class MalformedBatchError extends Error {
	override name = 'MalformedBatchError';
}

export function parseNotificationBatch(body: unknown): NotificationBatch {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw new MalformedBatchError('The body is not a JSON object');
	}
	const { value, validationTokens } = body as { value?: unknown; validationTokens?: unknown };
	if (!Array.isArray(value)) throw new MalformedBatchError('The body has no "value" array');
	const items = value.filter(
		(item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item),
	);
	return {
		items,
		validationTokens: Array.isArray(validationTokens)
			? validationTokens.filter((token): token is string => typeof token === 'string')
			: [],
		malformedCount: value.length - items.length,
	};
}
