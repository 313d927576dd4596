import { checkValidityPeriod } from '../certificates/checkCertificateUsable';
import { GraphApiError } from '../graph/graphApiError';
import {
	deleteSubscription,
	getSubscription,
	listSubscriptions,
	renewSubscription,
} from '../graph/subscriptionsApi';
import { resolveUser } from '../graph/users';
import { expiryFor, ourSubscriptionFor, postSubscription, slotWith } from './postSubscription';
import type { SubscriptionDeps } from './subscriptionDeps';
import { belongsToOtherApp, stampApp } from './subscriptionApps';
import { resourceFor } from './subscriptionSettings';
import { slotFor, type SubscriptionSlot, type SubscriptionState } from './subscriptionState';

/**
 * - verify: ask Graph whether it still exists (activation and restart); renew if due.
 * - renewIfDue: no Graph call unless half the lifetime has passed (the timer).
 * - renewNow: Graph asked for reauthorization; a PATCH of the expiry does that and renews.
 */
export type EnsureMode = 'verify' | 'renewIfDue' | 'renewNow';

/** The slot's subscription was deleted and a new one could not be made: the user has none now. */
export class SubscriptionLostError extends Error {
	override name = 'SubscriptionLostError';

	constructor(
		readonly slot: SubscriptionSlot,
		override readonly cause: unknown,
	) {
		super((cause as Error).message);
	}
}

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
	const ensured = await ensureOnce(deps, state, slot, mode);
	return stampApp(slot, ensured, state, deps.app, deps.now());
}

async function ensureOnce(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	slot: SubscriptionSlot,
	mode: EnsureMode,
): Promise<SubscriptionSlot> {
	const now = deps.now();
	// A subscription of the app the credential named before an edit: the credential's app takes it over now.
	const otherApp = belongsToOtherApp(slot, state, deps.app);
	const callsGraph = mode !== 'renewIfDue' || otherApp || isRenewalDue(slot, state, now);
	if (!callsGraph) return slot;
	if (!slot.userId) {
		// Activation could not look the user up; the slot still holds the resource template.
		const user = await resolveUser(deps.graph, slot.user);
		return restore(deps, state, { ...slotFor(slot, user), resource: resourceFor(slot.resource, user.id) });
	}
	if (slot.subscriptionId && slot.certificateId) {
		const { certificateId } = await deps.certificate();
		if (certificateId !== slot.certificateId) return moveToCertificate(deps, state, slot, slot.subscriptionId);
	}
	if (slot.subscriptionId) {
		if (mode === 'renewNow' || otherApp || isRenewalDue(slot, state, now)) {
			const renewed = await renewSubscription(deps.graph, slot.subscriptionId, expiryFor(state, now));
			if (renewed) {
				deps.logger.debug(`Renewed Graph subscription ${renewed.id} for ${slot.user} until ${renewed.expirationDateTime}`);
				return slotWith(slot, renewed, now);
			}
		} else {
			const existing = await getSubscription(deps.graph, slot.subscriptionId);
			if (existing) return { ...slot, expiresAt: existing.expirationDateTime };
		}
		deps.logger.info(`Graph subscription ${slot.subscriptionId} for ${slot.user} is gone; restoring it`);
	}
	return restore(deps, state, slot);
}

/** One of ours at our URL is adopted (renewed), else a new one is created. */
async function restore(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	slot: SubscriptionSlot,
): Promise<SubscriptionSlot> {
	const ours = ourSubscriptionFor(await listSubscriptions(deps.graph), state, slot.resource);
	if (ours) {
		const renewed = await renewSubscription(deps.graph, ours.id, expiryFor(state, deps.now()));
		if (renewed) return slotWith(slot, renewed, deps.now());
	}
	return postSubscription(deps, state, { ...slot, subscriptionId: undefined }, 'adopt');
}

/**
 * Graph keeps encrypting with the certificate a subscription was made with. Its key-rotation guidance
 * is a PATCH of encryptionCertificate and encryptionCertificateId, which keeps the subscription (no gap);
 * where Graph refuses that, the subscription is made again at once. The previous key still opens what
 * is in flight.
 */
async function moveToCertificate(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	slot: SubscriptionSlot,
	subscriptionId: string,
): Promise<SubscriptionSlot> {
	const certificate = await deps.certificate();
	checkValidityPeriod(certificate.validity, 'notification encryption', deps.now());
	deps.logger.info(`Moving the subscription for ${slot.user} to encryption certificate ${certificate.certificateId}`);
	try {
		const moved = await renewSubscription(deps.graph, subscriptionId, expiryFor(state, deps.now()), {
			encryptionCertificate: certificate.encryptionCertificate,
			encryptionCertificateId: certificate.certificateId,
		});
		if (moved) return slotWith(slot, { ...moved, encryptionCertificateId: certificate.certificateId }, deps.now());
		return await restore(deps, state, slot);
	} catch (error) {
		if (!(error instanceof GraphApiError) || error.status !== 400) throw error;
		deps.logger.info(`Graph did not move subscription ${subscriptionId} to the new certificate (${error.code}); making it again`);
	}
	await deleteSubscription(deps.graph, subscriptionId);
	const without: SubscriptionSlot = { ...slot, subscriptionId: undefined, expiresAt: undefined, renewedAt: undefined };
	try {
		return await postSubscription(deps, state, without, 'adopt');
	} catch (error) {
		throw new SubscriptionLostError(without, error);
	}
}
