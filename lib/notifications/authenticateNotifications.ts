import { createHash, timingSafeEqual } from 'node:crypto';

import { joinUrlOfResource, sameMeeting } from '../meetings/meetingCallEventsResource';
import { callRecordIdOf } from '../subscriptions/callSources';
import type { SubscriptionSlot } from '../subscriptions/subscriptionState';

export interface AuthenticatedItem {
	item: Record<string, unknown>;
	slot: SubscriptionSlot;
}

/** The slots of one saved state, indexed so that each received item costs one hash whatever the number of users. */
interface SlotIndex {
	/** What the index was built from: a slot changed in place makes it stale. */
	builtFrom: Array<[string | undefined, string]>;
	bySubscriptionId: Map<string, { slot: SubscriptionSlot; digest: Buffer }>;
	/** hex sha256(clientState) → the slots with that clientState (one per user, normally). */
	byDigest: Map<string, Array<{ slot: SubscriptionSlot; digest: Buffer }>>;
}

/** States are replaced rather than changed, so an index is built once per slots array (checked, not assumed). */
const indexes = new WeakMap<SubscriptionSlot[], SlotIndex>();

function sha256(value: string): Buffer {
	return createHash('sha256').update(value).digest();
}

function indexOf(slots: SubscriptionSlot[]): SlotIndex {
	let index = indexes.get(slots);
	if (
		index &&
		index.builtFrom.length === slots.length &&
		slots.every((slot, at) => index!.builtFrom[at][0] === slot.subscriptionId && index!.builtFrom[at][1] === slot.clientState)
	) {
		return index;
	}
	index = { builtFrom: slots.map((slot) => [slot.subscriptionId, slot.clientState]), bySubscriptionId: new Map(), byDigest: new Map() };
	for (const slot of slots) {
		const entry = { slot, digest: sha256(slot.clientState) };
		if (slot.subscriptionId) index.bySubscriptionId.set(slot.subscriptionId, entry);
		const hex = entry.digest.toString('hex');
		index.byDigest.set(hex, [...(index.byDigest.get(hex) ?? []), entry]);
	}
	indexes.set(slots, index);
	return index;
}

/**
 * Any resource path Graph uses for a user's calls names the user's object ID. A slot whose user
 * activation could not look up yet has no ID, and no subscription: nothing is about it.
 */
function aboutUser(item: Record<string, unknown>, slot: SubscriptionSlot): boolean {
	// A call-records slot's notifications name a record, whoever took part.
	if (slot.target?.kind === 'callRecords') return callRecordIdOf(item.resource) !== undefined;
	if (slot.target?.kind === 'meeting') return aboutMeeting(item, slot.target.joinUrl);
	return slot.userId !== '' && typeof item.resource === 'string' && item.resource.toLowerCase().includes(slot.userId);
}

/** A meeting's notifications name its join URL, in either resource form Graph has documented. */
export function aboutMeeting(item: Record<string, unknown>, joinUrl: string): boolean {
	if (typeof item.resource !== 'string') return false;
	const named = joinUrlOfResource(item.resource);
	return named !== undefined && sameMeeting(named, joinUrl);
}

/**
 * Keeps only items that carry the clientState of one of our subscriptions. An item is matched by its
 * subscriptionId; failing that (a subscription recreated by another n8n process since the state was
 * saved) by a clientState that belongs to the slot whose user the item is about. Either way the received
 * clientState is hashed once and compared in constant time with the expected digest.
 */
export function authenticateNotifications(
	items: Array<Record<string, unknown>>,
	slots: SubscriptionSlot[],
): { accepted: AuthenticatedItem[]; rejected: number } {
	const index = indexOf(slots);
	const accepted: AuthenticatedItem[] = [];
	let rejected = 0;
	for (const item of items) {
		const { subscriptionId, clientState } = item;
		if (typeof subscriptionId !== 'string' || typeof clientState !== 'string') {
			rejected++;
			continue;
		}
		const received = sha256(clientState);
		const byId = index.bySubscriptionId.get(subscriptionId);
		let slot: SubscriptionSlot | undefined;
		if (byId) {
			slot = timingSafeEqual(received, byId.digest) ? byId.slot : undefined;
		} else {
			// The map lookup is keyed by the hash of what was received, so its timing tells nothing about our secrets.
			slot = index.byDigest
				.get(received.toString('hex'))
				?.find(
					(candidate) =>
						timingSafeEqual(received, candidate.digest) &&
						(typeof item.lifecycleEvent === 'string' || aboutUser(item, candidate.slot)),
				)?.slot;
		}
		if (slot) accepted.push({ item, slot });
		else rejected++;
	}
	return { accepted, rejected };
}
