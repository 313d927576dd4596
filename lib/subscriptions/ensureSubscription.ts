import {
	deleteSubscription,
	getSubscription,
	listSubscriptions,
	renewSubscription,
} from '../graph/subscriptionsApi';
import { expiryFor, ourSubscriptionFor, postSubscription, slotWith } from './postSubscription';
import type { SubscriptionDeps } from './subscriptionDeps';
import type { SubscriptionSlot, SubscriptionState } from './subscriptionState';

/**
 * - verify: ask Graph whether it still exists (activation and restart); renew if due.
 * - renewIfDue: no Graph call unless half the lifetime has passed (the timer).
 * - renewNow: Graph asked for reauthorization; a PATCH of the expiry does that and renews.
 */
export type EnsureMode = 'verify' | 'renewIfDue' | 'renewNow';

export function isRenewalDue(slot: SubscriptionSlot, state: SubscriptionState, now: Date): boolean {
	if (!slot.subscriptionId || !slot.expiresAt) return true;
	const expiresAt = Date.parse(slot.expiresAt);
	const grantedAt = slot.renewedAt ? Date.parse(slot.renewedAt) : expiresAt - state.lifetimeMinutes * 60_000;
	return now.getTime() >= grantedAt + (expiresAt - grantedAt) / 2;
}

/**
 * Brings one slot to a live, renewed subscription with the slot's clientState. A subscription Graph no
 * longer has (404) is not retried: one of ours at our URL is adopted, else a new one is created.
 */
export async function ensureSubscription(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	slot: SubscriptionSlot,
	mode: EnsureMode,
): Promise<SubscriptionSlot> {
	const now = deps.now();
	const callsGraph = mode !== 'renewIfDue' || isRenewalDue(slot, state, now);
	if (slot.subscriptionId && slot.certificateId && callsGraph) {
		// Graph keeps encrypting with the certificate a subscription was made with; after a rotation
		// of the credential, the subscription is made again with the new one (the previous key still
		// opens what is in flight).
		const { certificateId } = await deps.certificate();
		if (certificateId !== slot.certificateId) {
			deps.logger.info(`Moving the subscription for ${slot.user} to encryption certificate ${certificateId}`);
			await deleteSubscription(deps.graph, slot.subscriptionId);
			return postSubscription(deps, state, { ...slot, subscriptionId: undefined }, 'adopt');
		}
	}
	if (slot.subscriptionId) {
		if (mode === 'renewNow' || isRenewalDue(slot, state, now)) {
			const renewed = await renewSubscription(deps.graph, slot.subscriptionId, expiryFor(state, now));
			if (renewed) {
				deps.logger.debug(`Renewed Graph subscription ${renewed.id} for ${slot.user} until ${renewed.expirationDateTime}`);
				return slotWith(slot, renewed, now);
			}
		} else if (mode === 'verify') {
			const existing = await getSubscription(deps.graph, slot.subscriptionId);
			if (existing) return { ...slot, expiresAt: existing.expirationDateTime };
		} else {
			return slot;
		}
		deps.logger.info(`Graph subscription ${slot.subscriptionId} for ${slot.user} is gone; restoring it`);
	}

	const ours = ourSubscriptionFor(await listSubscriptions(deps.graph), state, slot.resource);
	if (ours) {
		const renewed = await renewSubscription(deps.graph, ours.id, expiryFor(state, deps.now()));
		if (renewed) return slotWith(slot, renewed, deps.now());
	}
	return postSubscription(deps, state, slot, 'adopt');
}
