import { createHash, timingSafeEqual } from 'node:crypto';

import type { SubscriptionSlot } from '../subscriptions/subscriptionState';

export interface AuthenticatedItem {
	item: Record<string, unknown>;
	slot: SubscriptionSlot;
}

/** Constant-time over equal-length digests, so neither content nor length leaks through timing. */
function sameSecret(received: string, expected: string): boolean {
	const a = createHash('sha256').update(received).digest();
	const b = createHash('sha256').update(expected).digest();
	return timingSafeEqual(a, b);
}

/** Any resource path Graph uses for a user's calls names the user's object ID. */
function aboutUser(item: Record<string, unknown>, slot: SubscriptionSlot): boolean {
	return typeof item.resource === 'string' && item.resource.toLowerCase().includes(slot.userId);
}

/**
 * Keeps only items that carry the clientState of one of our subscriptions. An item is matched by its
 * subscriptionId; failing that (a subscription recreated by another n8n process since the state was
 * saved) by a clientState that belongs to the slot whose user the item is about.
 */
export function authenticateNotifications(
	items: Array<Record<string, unknown>>,
	slots: SubscriptionSlot[],
): { accepted: AuthenticatedItem[]; rejected: number } {
	const accepted: AuthenticatedItem[] = [];
	let rejected = 0;
	for (const item of items) {
		const { subscriptionId, clientState } = item;
		if (typeof subscriptionId !== 'string' || typeof clientState !== 'string') {
			rejected++;
			continue;
		}
		const byId = slots.find((slot) => slot.subscriptionId === subscriptionId);
		let slot: SubscriptionSlot | undefined;
		if (byId) {
			slot = sameSecret(clientState, byId.clientState) ? byId : undefined;
		} else {
			slot = slots.find(
				(candidate) =>
					sameSecret(clientState, candidate.clientState) &&
					(typeof item.lifecycleEvent === 'string' || aboutUser(item, candidate)),
			);
		}
		if (slot) accepted.push({ item, slot });
		else rejected++;
	}
	return { accepted, rejected };
}
