import { deleteSubscription, listSubscriptions } from '../graph/subscriptionsApi';
import type { SubscriptionDeps, WebhookUrls } from './subscriptionDeps';
import type { SubscriptionState } from './subscriptionState';

/**
 * Deactivation: deletes the saved subscriptions and any other of ours at this URL (one the timer made
 * after the state was last saved). A failure is logged, not thrown: deactivation must go through, and
 * Graph drops the subscription at its expiry.
 */
export async function deleteSubscriptions(
	deps: SubscriptionDeps,
	state: SubscriptionState | undefined,
	urls: WebhookUrls,
): Promise<void> {
	const ids = new Set(state?.slots.flatMap((slot) => (slot.subscriptionId ? [slot.subscriptionId] : [])));
	try {
		for (const subscription of await listSubscriptions(deps.graph)) {
			if (subscription.notificationUrl === urls.notificationUrl) ids.add(subscription.id);
		}
	} catch (error) {
		deps.logger.warn(`Could not list Graph subscriptions while removing this trigger's subscriptions (deactivation, or the cleanup after a refused activation): ${(error as Error).message}`);
	}
	for (const id of ids) {
		try {
			const deleted = await deleteSubscription(deps.graph, id);
			deps.logger.info(deleted ? `Deleted Graph subscription ${id}` : `Graph subscription ${id} was already gone`);
		} catch (error) {
			deps.logger.warn(
				`Could not delete Graph subscription ${id}; Graph removes it when it expires: ${(error as Error).message}`,
			);
		}
	}
}
