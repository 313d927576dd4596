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

	/**
	 * true when none of the keys was seen within the window; records them all. An event has several
	 * keys (its notification, its call and time), and any one already seen makes it a redelivery.
	 */
	firstSighting(keys: string | readonly string[], now = Date.now()): boolean {
		const all = typeof keys === 'string' ? [keys] : keys;
		for (const [oldest, expiry] of this.expiries) {
			if (expiry > now) break;
			this.expiries.delete(oldest);
		}
		if (all.some((key) => (this.expiries.get(key) ?? 0) > now)) return false;
		for (const key of all) {
			this.expiries.delete(key);
			this.expiries.set(key, now + this.windowMs);
		}
		while (this.expiries.size > this.capacity) {
			this.expiries.delete(this.expiries.keys().next().value as string);
		}
		return true;
	}

	/** Whether the key was seen within the window; records nothing. */
	has(key: string, now = Date.now()): boolean {
		return (this.expiries.get(key) ?? 0) > now;
	}

	get size(): number {
		return this.expiries.size;
	}
}

function digest(parts: unknown[]): string {
	return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * What makes two deliveries the same call event. A redelivery repeats Graph's notification `id`; the
 * same event re-sent under a new notification still has the call's identifiers and its event time.
 * A user who leaves and rejoins a call gets a new notification, and the event time differs, so the
 * call identifiers alone never decide: that would swallow the rejoin. With neither an `id` nor an
 * event time there is no key, and the event is not deduplicated (a second run beats a lost event).
 */
export function callEventKeys(
	notification: Record<string, unknown>,
	resource: Record<string, unknown>,
	event: string,
): string[] {
	const keys: string[] = [];
	if (typeof notification.id === 'string' && notification.id) {
		keys.push(digest(['notification', notification.subscriptionId, notification.id]));
	}
	const eventTime = resource.eventDateTime;
	if (typeof eventTime === 'string' && eventTime) {
		const callIdentifiers = [resource.callId, resource.csUrl, resource.joinCallUrl].filter(
			(value): value is string => typeof value === 'string' && value.length > 0,
		);
		keys.push(digest(['event', notification.subscriptionId, notification.resource, event, callIdentifiers, eventTime]));
	}
	return keys;
}

const perTrigger = new BoundedCache<string, RecentCallEvents>(256);

export function recentCallEventsFor(triggerKey: string): RecentCallEvents {
	return perTrigger.getOrCreate(triggerKey, () => new RecentCallEvents());
}
