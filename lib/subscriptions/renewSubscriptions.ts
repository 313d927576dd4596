import { ensureSubscription, SubscriptionLostError } from './ensureSubscription';
import { explainSubscriptionError } from './explainSubscriptionError';
import { hasEnded } from './liveSubscriptionStates';
import type { RenewalHealth } from './renewalHealth';
import type { SubscriptionDeps } from './subscriptionDeps';
import { withOwnApps } from './subscriptionApps';
import type { SubscriptionState } from './subscriptionState';

export interface RenewalOutcome {
	state: SubscriptionState;
	/** Failures that should reach the workflow's error handling, already worded for the user. */
	reports: string[];
}

/**
 * One pass of the renewal timer: renews what is due, restores what Graph lost, subscribes users that
 * activation could not, backs off on failure. Stops as soon as the activation was deleted: nothing may
 * be created for a workflow that is no longer active.
 */
export async function renewSubscriptions(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	health: RenewalHealth,
): Promise<RenewalOutcome> {
	const slots = [...state.slots];
	const reports: string[] = [];
	let madeGraphCalls = false;
	for (const [index, slot] of slots.entries()) {
		if (hasEnded(state.activationId)) break;
		const now = deps.now();
		if (!health.canAttempt(slot.user, now)) continue;
		try {
			slots[index] = await ensureSubscription(deps, state, slot, 'renewIfDue');
			if (slots[index] !== slot) madeGraphCalls = true;
			health.recordSuccess(slot.user);
		} catch (error) {
			const cause = error instanceof SubscriptionLostError ? error.cause : error;
			if (error instanceof SubscriptionLostError) slots[index] = error.slot;
			const message = explainSubscriptionError(cause, slot.user, state.notificationUrl, state.source);
			const report = health.recordFailure(slots[index], state, cause, deps.now());
			deps.logger.warn(
				`Renewing the Graph subscription for ${slot.user} failed (attempt ${health.failuresOf(slot.user)}): ${message}`,
			);
			if (report) {
				const without = slots[index].subscriptionId ? '' : ' This user has no subscription now.';
				reports.push(
					`Keeping the Microsoft Teams call subscription for ${slot.user} alive failed ${health.failuresOf(slot.user)} time(s).${without} ${message}. Until this is fixed, this user's calls do not trigger the workflow; it is retried automatically.`,
				);
			}
		}
	}
	// Subscriptions renewed or made with the credential as it is now belong to its app (after an edit of
	// the credential, a new one); notifications are checked against that app.
	if (!madeGraphCalls) return { state: { ...state, slots }, reports };
	return { state: { ...state, app: deps.app, slots: withOwnApps(slots, state) }, reports };
}
