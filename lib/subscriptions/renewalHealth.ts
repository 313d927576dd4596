import { GraphApiError } from '../graph/graphApiError';
import type { SubscriptionSlot, SubscriptionState } from './subscriptionState';

const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 15 * 60_000;
const REPORT_AFTER_FAILURES = 3;
const REPORT_INTERVAL_MS = 60 * 60_000;

interface SlotHealth {
	failures: number;
	retryAt: number;
	lastReportedAt?: number;
}

/**
 * Per-user (as the author entered them: activation may not have resolved the ID) failure bookkeeping for the renewal timer: backs off between attempts (honouring
 * Retry-After), and decides when a failure is worth a visible report. One blip is only logged; a
 * failure that repeats, or one that leaves a subscription close to expiry, is reported, once an hour.
 */
export class RenewalHealth {
	private readonly slots = new Map<string, SlotHealth>();

	canAttempt(user: string, now: Date): boolean {
		return (this.slots.get(user)?.retryAt ?? 0) <= now.getTime();
	}

	recordSuccess(user: string): void {
		this.slots.delete(user);
	}

	/** Returns true when this failure should be reported to the workflow's error handling. */
	recordFailure(slot: SubscriptionSlot, state: SubscriptionState, error: unknown, now: Date): boolean {
		const health = this.slots.get(slot.user) ?? { failures: 0, retryAt: 0 };
		health.failures += 1;
		const backoff = Math.min(FIRST_RETRY_MS * 2 ** (health.failures - 1), MAX_RETRY_MS);
		const retryAfterMs =
			error instanceof GraphApiError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
		health.retryAt = now.getTime() + Math.max(backoff, retryAfterMs);

		const expiresAt = slot.expiresAt ? Date.parse(slot.expiresAt) : now.getTime();
		const nearExpiry = expiresAt - now.getTime() <= (state.lifetimeMinutes * 60_000) / 4;
		const due = health.failures >= REPORT_AFTER_FAILURES || nearExpiry;
		const quiet = health.lastReportedAt !== undefined && now.getTime() - health.lastReportedAt < REPORT_INTERVAL_MS;
		this.slots.set(slot.user, health);
		if (!due || quiet) return false;
		health.lastReportedAt = now.getTime();
		return true;
	}

	failuresOf(user: string): number {
		return this.slots.get(user)?.failures ?? 0;
	}
}
