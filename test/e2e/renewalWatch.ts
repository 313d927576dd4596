/**
 * Watching a trigger keep its subscriptions alive without traffic, as every e2e file with short lifetimes
 * does: how many live subscriptions each target has over time, and whether each renewal came in time.
 */
import type { GraphSimulator, LoggedRequest } from '../simulator';

/** The subscription creations Graph has been asked for so far. */
export function subscriptionCreates(sim: GraphSimulator): number {
	return sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
}

/** The renewals (PATCH) of one subscription, from `since` on. */
export function renewalsOf(sim: GraphSimulator, subscriptionId: string, since = 0): LoggedRequest[] {
	return sim.findRequests({ method: 'PATCH', path: new RegExp(`/subscriptions/${subscriptionId}$`) }).filter((r) => r.time >= since);
}

export interface LivenessSamples {
	samples: number;
	/** "<time> <target>" for each sample in which the target had no live subscription. */
	gaps: string[];
	/** "<time> <target> x<n>" for each sample in which it had more than one. */
	duplicates: string[];
}

/** Samples every 250 ms how many live subscriptions each target has (`liveCounts`: label and count). */
export function sampleLiveness(liveCounts: () => Array<[label: string, count: number]>): { stop: () => LivenessSamples } {
	const result: LivenessSamples = { samples: 0, gaps: [], duplicates: [] };
	const timer = setInterval(() => {
		result.samples++;
		const at = new Date().toISOString();
		for (const [label, count] of liveCounts()) {
			if (count === 0) result.gaps.push(`${at} ${label}`);
			if (count > 1) result.duplicates.push(`${at} ${label} x${count}`);
		}
	}, 250);
	return {
		stop: () => {
			clearInterval(timer);
			return result;
		},
	};
}

/**
 * Over a watch of `watchMs`: every renewal of the subscription succeeded, there was one at least every
 * 45 s, each came before the expiry the previous one set (the first before the creation's), and the last
 * one's expiry is still ahead. Returns the renewals.
 */
export function expectRenewedBeforeExpiry(sim: GraphSimulator, subscriptionId: string, lifetimeMs: number, watchMs: number): LoggedRequest[] {
	const renewals = renewalsOf(sim, subscriptionId);
	expect(renewals.every((r) => r.status === 200)).toBe(true);
	expect(renewals.length).toBeGreaterThanOrEqual(Math.floor(watchMs / 45_000));
	let expiresAt = sim.getSubscription(subscriptionId)!.createdAt + lifetimeMs;
	for (const renewal of renewals) {
		expect(renewal.time).toBeLessThan(expiresAt);
		expiresAt = renewal.time + lifetimeMs;
	}
	expect(Date.now()).toBeLessThan(expiresAt);
	return renewals;
}
