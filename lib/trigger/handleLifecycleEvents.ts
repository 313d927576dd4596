import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import { watchedUserFields } from '../notifications/watchedUserFields';
import { ensureSubscription } from '../subscriptions/ensureSubscription';
import { explainSubscriptionError } from '../subscriptions/explainSubscriptionError';
import type { SubscriptionDeps } from '../subscriptions/subscriptionDeps';
import type { SubscriptionState } from '../subscriptions/subscriptionState';

export interface LifecycleOutcome {
	state: SubscriptionState;
	changed: boolean;
	/** `missed` events, as items, for authors who asked for them. */
	missedItems: IDataObject[];
}

/**
 * Lifecycle events never become call events. reauthorizationRequired: PATCH the expiry, which
 * reauthorizes and renews (never also /reauthorize: Graph warns against both within 10 minutes).
 * subscriptionRemoved: restore it. missed: say so. Each user is handled once per batch.
 */
export async function handleLifecycleEvents(
	context: IWebhookFunctions,
	deps: () => Promise<SubscriptionDeps>,
	state: SubscriptionState,
	lifecycleItems: AuthenticatedItem[],
	receivedAt: string,
): Promise<LifecycleOutcome> {
	const slots = [...state.slots];
	const handled = new Set<string>();
	const missedItems: IDataObject[] = [];
	let changed = false;
	for (const { item, slot } of lifecycleItems) {
		const event = String(item.lifecycleEvent);
		if (event === 'missed') {
			context.logger.warn(`Microsoft Graph reports missed call notifications for ${slot.user} (subscription ${String(item.subscriptionId)})`);
			missedItems.push({ event: 'missed', source: state.source ?? 'callEvents', ...watchedUserFields(slot), subscriptionId: item.subscriptionId as string, tenantId: (item.tenantId ?? null) as string | null, receivedAt });
			continue;
		}
		if (event !== 'reauthorizationRequired' && event !== 'subscriptionRemoved') {
			context.logger.warn(`Ignoring unknown Microsoft Graph lifecycle event "${event.slice(0, 64)}" for ${slot.user}`);
			continue;
		}
		if (handled.has(slot.userId)) continue;
		handled.add(slot.userId);
		const index = slots.findIndex((candidate) => candidate.userId === slot.userId);
		// The event names the subscription Graph has now, which may be newer than the saved one.
		const current = { ...slots[index], subscriptionId: item.subscriptionId as string };
		try {
			slots[index] = await ensureSubscription(
				await deps(),
				state,
				current,
				event === 'reauthorizationRequired' ? 'renewNow' : 'verify',
			);
			changed = true;
			context.logger.info(`Handled ${event} for ${slot.user}: subscription ${slots[index].subscriptionId} until ${slots[index].expiresAt}`);
		} catch (error) {
			context.logger.error(
				`Could not handle ${event} for ${slot.user}; the renewal timer will retry: ${explainSubscriptionError(error, slot.user, state.notificationUrl, state.source)}`,
			);
		}
	}
	return { state: { ...state, slots }, changed, missedItems };
}
