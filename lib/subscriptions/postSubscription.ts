import { checkValidityPeriod } from '../certificates/checkCertificateUsable';
import { GraphApiError } from '../graph/graphApiError';
import {
	createSubscription,
	deleteSubscription,
	listSubscriptions,
	renewSubscription,
	type GraphSubscription,
	type NewSubscription,
} from '../graph/subscriptionsApi';
import type { SubscriptionDeps } from './subscriptionDeps';
import { sameResource } from './subscriptionSettings';
import type { SubscriptionSlot, SubscriptionState } from './subscriptionState';

export class SubscriptionConflictError extends Error {
	override name = 'SubscriptionConflictError';

	constructor(
		message: string,
		/** Where the subscription that holds the user delivers, when Graph listed it. */
		readonly otherNotificationUrl?: string,
	) {
		super(message);
	}
}

export function expiryFor(state: Pick<SubscriptionState, 'lifetimeMinutes'>, now: Date): string {
	return new Date(now.getTime() + state.lifetimeMinutes * 60_000).toISOString();
}

export function slotWith(slot: SubscriptionSlot, subscription: GraphSubscription, now: Date): SubscriptionSlot {
	return {
		...slot,
		subscriptionId: subscription.id,
		expiresAt: subscription.expirationDateTime,
		renewedAt: now.toISOString(),
		certificateId: subscription.encryptionCertificateId ?? slot.certificateId,
	};
}

export function ourSubscriptionFor(
	subscriptions: GraphSubscription[],
	state: Pick<SubscriptionState, 'notificationUrl'>,
	resource: string,
): GraphSubscription | undefined {
	return subscriptions.find(
		(subscription) =>
			subscription.notificationUrl === state.notificationUrl && sameResource(subscription.resource, resource),
	);
}

/**
 * What Graph is asked for. Call events and meeting call events are rich (encrypted with the certificate
 * credential, changeType updated); call records are basic, so that source needs no certificate at all.
 */
async function subscriptionBody(deps: SubscriptionDeps, state: SubscriptionState, slot: SubscriptionSlot): Promise<NewSubscription> {
	const common = {
		notificationUrl: state.notificationUrl,
		// One URL for both: n8n may re-register only the webhook whose create() failed, and a second URL
		// that is not registered would fail Graph's validation for good.
		lifecycleNotificationUrl: state.notificationUrl,
		resource: slot.resource,
		expirationDateTime: expiryFor(state, deps.now()),
		clientState: slot.clientState,
		latestSupportedTlsVersion: 'v1_2' as const,
	};
	if (slot.target?.kind === 'callRecords') return { ...common, changeType: state.changeType ?? 'created' };
	const certificate = await deps.certificate();
	checkValidityPeriod(certificate.validity, 'notification encryption', deps.now());
	return {
		...common,
		changeType: 'updated',
		includeResourceData: true,
		encryptionCertificate: certificate.encryptionCertificate,
		encryptionCertificateId: certificate.certificateId,
	};
}

/**
 * Creates the slot's subscription. Graph refuses a second subscription for the same resource with 409.
 * At our own URL that one is either from this activation (adopt it: it has our clientState) or a
 * leftover of an earlier one (replace it: its clientState is lost). At another URL it belongs to
 * someone else, and taking it over silently would break them.
 */
export async function postSubscription(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	slot: SubscriptionSlot,
	onConflictAtOurUrl: 'adopt' | 'replace',
): Promise<SubscriptionSlot> {
	const body = await subscriptionBody(deps, state, slot);
	for (let attempt = 1; ; attempt++) {
		try {
			const created = await createSubscription(deps.graph, body);
			deps.logger.info(`Created Graph subscription ${created.id} for ${slot.user}`);
			return slotWith(slot, created, deps.now());
		} catch (error) {
			if (!(error instanceof GraphApiError) || error.status !== 409 || attempt > 1) throw error;
			const existing = await listSubscriptions(deps.graph);
			const ours = ourSubscriptionFor(existing, state, slot.resource);
			if (ours && onConflictAtOurUrl === 'adopt') {
				const renewed = await renewSubscription(deps.graph, ours.id, expiryFor(state, deps.now()));
				if (renewed) return slotWith(slot, renewed, deps.now());
				continue;
			}
			if (ours) {
				await deleteSubscription(deps.graph, ours.id);
				continue;
			}
			const other = existing.find((subscription) => sameResource(subscription.resource, slot.resource));
			const what = slot.target?.kind === 'meeting' ? 'meeting' : 'user';
			throw new SubscriptionConflictError(
				`this app already has subscription ${other?.id ?? '(unknown)'} for ${slot.resource}${other ? `, delivering to ${other.notificationUrl}` : ''}. Graph allows one per ${what} and app: deactivate the other workflow (or n8n instance) that watches this ${what}, or delete that subscription`,
				other?.notificationUrl,
			);
		}
	}
}
