import { BoundedCache } from '../boundedCache';
import type { SubscriptionState } from './subscriptionState';

/**
 * The newest subscription state of each active trigger in this process. n8n does not save static data
 * changed by a timer tick, so the timer keeps its own copy here; the saved state stays the source of
 * truth for a new activation (a different activationId wins over this copy).
 */
const states = new Map<string, SubscriptionState>();

/**
 * Activations whose subscriptions were deleted (deactivation). n8n runs delete() before it stops the
 * timer, and a tick may hold a copy of the state: it must not renew or create anything for these.
 */
const ended = new BoundedCache<string, true>(4096);

export function liveStateKey(workflowId: string, nodeName: string, notificationUrl: string): string {
	return JSON.stringify([workflowId, nodeName, notificationUrl]);
}

export function currentState(key: string, saved: SubscriptionState | undefined): SubscriptionState | undefined {
	if (!saved || ended.get(saved.activationId)) return undefined;
	const live = states.get(key);
	if (!live || live.activationId !== saved.activationId) return saved;
	return live;
}

export function rememberState(key: string, state: SubscriptionState | undefined): void {
	if (state && !ended.get(state.activationId)) states.set(key, state);
	else states.delete(key);
}

/** Deactivation: forget the state and refuse it from now on, whoever still holds a copy. */
export function endActivation(key: string, activationId: string | undefined): void {
	states.delete(key);
	if (activationId) ended.set(activationId, true);
}

export function hasEnded(activationId: string): boolean {
	return ended.get(activationId) === true;
}

/** What a process restart does to this module; for tests. */
export function forgetAllLiveStates(): void {
	states.clear();
	ended.clear();
}
