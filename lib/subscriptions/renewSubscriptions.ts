import { ensureSubscription } from './ensureSubscription';
import { explainSubscriptionError } from './explainSubscriptionError';
import type { RenewalHealth } from './renewalHealth';
import type { SubscriptionDeps } from './subscriptionDeps';
import type { SubscriptionState } from './subscriptionState';

export interface RenewalOutcome {
	state: SubscriptionState;
	/** Failures that should reach the workflow's error handling, already worded for the user. */
	reports: string[];
}

/** One pass of the renewal timer: renews what is due, restores what Graph lost, backs off on failure. */
export async function renewSubscriptions(
	deps: SubscriptionDeps,
	state: SubscriptionState,
	health: RenewalHealth,
): Promise<RenewalOutcome> {
	const slots = [...state.slots];
	const reports: string[] = [];
	for (const [index, slot] of slots.entries()) {
		const now = deps.now();
		if (!health.canAttempt(slot.userId, now)) continue;
		try {
			slots[index] = await ensureSubscription(deps, state, slot, 'renewIfDue');
			health.recordSuccess(slot.userId);
		} catch (error) {
			const message = explainSubscriptionError(error, slot.user, state.notificationUrl);
			const report = health.recordFailure(slot, state, error, deps.now());
			deps.logger.warn(
				`Renewing the Graph subscription for ${slot.user} failed (attempt ${health.failuresOf(slot.userId)}): ${message}`,
			);
			if (report) {
				reports.push(
					`Keeping the Microsoft Teams call subscription for ${slot.user} alive failed ${health.failuresOf(slot.userId)} time(s). ${message}. Until this is fixed, this user's calls may not trigger the workflow.`,
				);
			}
		}
	}
	return { state: { ...state, slots }, reports };
}
