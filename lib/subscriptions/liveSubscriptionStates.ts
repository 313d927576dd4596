import type { SubscriptionState } from './subscriptionState';

/**
 * The newest subscription state of each active trigger in this process. n8n does not save static data
 * changed by a timer tick, so the timer keeps its own copy here; the saved state stays the source of
 * truth for a new activation (a different activationId wins over this copy).
 */
const states = new Map<string, SubscriptionState>();

export function liveStateKey(workflowId: string, nodeName: string, notificationUrl: string): string {
	return JSON.stringify([workflowId, nodeName, notificationUrl]);
}

export function currentState(key: string, saved: SubscriptionState | undefined): SubscriptionState | undefined {
	const live = states.get(key);
	if (!saved) return undefined;
	if (!live || live.activationId !== saved.activationId) return saved;
	return live;
}

export function rememberState(key: string, state: SubscriptionState | undefined): void {
	if (state) states.set(key, state);
	else states.delete(key);
}

/** What a process restart does to this module; for tests. */
export function forgetAllLiveStates(): void {
	states.clear();
}
