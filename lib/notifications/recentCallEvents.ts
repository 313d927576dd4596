import { createHash } from 'node:crypto';

import { BoundedCache } from '../boundedCache';

/** Graph retries a delivery for up to 4 hours; remember a little longer than that. */
export const DEDUPLICATION_WINDOW_MS = 5 * 3_600_000;
export const DEDUPLICATION_CAPACITY = 10_000;

/**
 * Call events already handed to the workflow, so a redelivery (Graph delivers at least once) runs it
 * only once. Bounded in count and age: the oldest entries go first.
 */
export class RecentCallEvents {
	private readonly expiries = new Map<string, number>();

	constructor(
		private readonly capacity = DEDUPLICATION_CAPACITY,
		private readonly windowMs = DEDUPLICATION_WINDOW_MS,
	) {}

	/** true the first time a key is seen within the window; records it. */
	firstSighting(key: string, now = Date.now()): boolean {
		for (const [oldest, expiry] of this.expiries) {
			if (expiry > now) break;
			this.expiries.delete(oldest);
		}
		const expiry = this.expiries.get(key);
		if (expiry !== undefined && expiry > now) return false;
		this.expiries.delete(key);
		this.expiries.set(key, now + this.windowMs);
		while (this.expiries.size > this.capacity) {
			this.expiries.delete(this.expiries.keys().next().value as string);
		}
		return true;
	}

	get size(): number {
		return this.expiries.size;
	}
}

/**
 * What makes two deliveries the same call event: subscription, resource, event type and the call's
 * identifiers. Without any call identifier only Graph's notification ID can tell; without that
 * either, the event cannot be told apart and is not deduplicated.
 */
export function callEventKey(
	notification: Record<string, unknown>,
	resource: Record<string, unknown>,
	event: string,
): string | undefined {
	const callIdentifiers = [resource.callId, resource.csUrl, resource.joinCallUrl].filter(
		(value): value is string => typeof value === 'string' && value.length > 0,
	);
	const identifiers =
		callIdentifiers.length > 0
			? callIdentifiers
			: typeof notification.id === 'string' && notification.id
				? [`notification:${notification.id}`]
				: [];
	if (identifiers.length === 0) return undefined;
	return createHash('sha256')
		.update(JSON.stringify([notification.subscriptionId, notification.resource, event, identifiers]))
		.digest('base64url');
}

const perTrigger = new BoundedCache<string, RecentCallEvents>(256);

export function recentCallEventsFor(triggerKey: string): RecentCallEvents {
	return perTrigger.getOrCreate(triggerKey, () => new RecentCallEvents());
}
