import type { SubscriptionApp, SubscriptionSlot, SubscriptionState } from './subscriptionState';

/** The same app registration in the same tenant and cloud: Graph keeps each app's subscriptions apart. */
export function sameApp(a: SubscriptionApp, b: SubscriptionApp): boolean {
	return (
		a.clientId.toLowerCase() === b.clientId.toLowerCase() &&
		a.tenantId.toLowerCase() === b.tenantId.toLowerCase() &&
		a.endpoints.loginOrigin === b.endpoints.loginOrigin
	);
}

/** The app the slot's subscription belongs to; state saved before slots recorded it has one for all. */
export function appOfSlot(slot: SubscriptionSlot, state: SubscriptionState): SubscriptionApp | undefined {
	return slot.app ?? state.app;
}

/** The slot's subscription was made by another app than the credential's now: it must move to the credential's app. */
export function belongsToOtherApp(slot: SubscriptionSlot, state: SubscriptionState, app: SubscriptionApp): boolean {
	const own = appOfSlot(slot, state);
	return slot.subscriptionId !== undefined && own !== undefined && !sameApp(own, app);
}

/**
 * The apps whose notifications for this slot are Graph's: its subscription's, and while it lives at Graph, the
 * one of a subscription of the previous app it replaced (the new app cannot delete it; Graph delivers until it
 * expires).
 */
export function appsOfSlot(slot: SubscriptionSlot, state: SubscriptionState, now: Date): SubscriptionApp[] {
	const own = appOfSlot(slot, state);
	const apps = own ? [own] : [];
	const replaced = slot.replacedApp;
	if (replaced && Date.parse(replaced.until) > now.getTime() && !apps.some((app) => sameApp(app, replaced.app))) apps.push(replaced.app);
	return apps;
}

/** Distinct apps, in order. */
export function distinctApps(apps: SubscriptionApp[]): SubscriptionApp[] {
	return apps.filter((app, index) => apps.findIndex((other) => sameApp(other, app)) === index);
}

/**
 * `after` is what a Graph call with `app`'s token made of `before`: its subscription is now `app`'s. When that
 * replaced a live subscription of another app, that one keeps delivering until it expires, and is remembered.
 */
export function stampApp(before: SubscriptionSlot, after: SubscriptionSlot, state: SubscriptionState, app: SubscriptionApp, now: Date): SubscriptionSlot {
	if (after === before) return before;
	const stamped: SubscriptionSlot = { ...after, app };
	const previous = appOfSlot(before, state);
	const replacedLive =
		previous !== undefined &&
		!sameApp(previous, app) &&
		before.subscriptionId !== undefined &&
		before.subscriptionId !== after.subscriptionId &&
		before.expiresAt !== undefined &&
		Date.parse(before.expiresAt) > now.getTime();
	if (replacedLive) stamped.replacedApp = { app: previous, until: before.expiresAt! };
	else if (stamped.replacedApp && Date.parse(stamped.replacedApp.until) <= now.getTime()) delete stamped.replacedApp;
	return stamped;
}

/** Before the state's `app` changes: every slot that relied on it keeps its own (state saved before slots had one). */
export function withOwnApps(slots: SubscriptionSlot[], state: SubscriptionState): SubscriptionSlot[] {
	const shared = state.app;
	return shared ? slots.map((slot) => (slot.app ? slot : { ...slot, app: shared })) : slots;
}
