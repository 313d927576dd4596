import { GraphHttpError } from './errors';

/**
 * Graph's throttling limits for call records (learn.microsoft.com/graph/throttling-limits, "Call records
 * service limits"): per app per tenant 1,500 requests per 20 s, per call record 40 per 20 s, listing 40 per
 * 20 s. Counted over a sliding window of the requests Graph served; past a limit the answer is 429
 * TooManyRequests with Retry-After (seconds) until the window has room again.
 */
export const CALL_RECORD_THROTTLE_WINDOW_MS = 20_000;
export const CALL_RECORD_LIMITS = { perAppAndTenant: 1500, perRecord: 40, listing: 40 } as const;

/** What one GET under communications/callRecords is counted against. */
export type CallRecordRequestKind = { record: string } | 'listing';

class SlidingWindow {
	private readonly times: number[] = [];

	constructor(private readonly limit: number) {}

	/** Milliseconds until one more request fits (0: it fits now). */
	waitMs(now: number): number {
		while (this.times.length > 0 && this.times[0]! <= now - CALL_RECORD_THROTTLE_WINDOW_MS) this.times.shift();
		if (this.times.length < this.limit) return 0;
		return this.times[this.times.length - this.limit]! + CALL_RECORD_THROTTLE_WINDOW_MS - now;
	}

	add(now: number): void {
		this.times.push(now);
	}
}

export class CallRecordThrottle {
	private readonly windows = new Map<string, SlidingWindow>();

	// Read through Date at each call, so a test that moves Date (test/support/fakeClock.ts) moves these windows too.
	constructor(private readonly now: () => number = () => Date.now()) {}

	/** Counts the request, or throws Graph's 429 when any limit it falls under is reached. */
	admit(appId: string, tenantId: string, kind: CallRecordRequestKind): void {
		const app = `${tenantId}|${appId}`;
		const scopes: Array<[string, number, string]> = [
			[app, CALL_RECORD_LIMITS.perAppAndTenant, 'per app and tenant'],
			kind === 'listing'
				? [`${app}|list`, CALL_RECORD_LIMITS.listing, 'for listing call records']
				: [`${app}|record|${kind.record.toLowerCase()}`, CALL_RECORD_LIMITS.perRecord, 'per call record'],
		];
		const now = this.now();
		const windows = scopes.map(([key, limit]) => this.windowFor(key, limit));
		const waits = windows.map((window) => window.waitMs(now));
		const longest = Math.max(...waits);
		if (longest > 0) {
			const which = scopes[waits.indexOf(longest)]![2];
			throw new GraphHttpError(
				429,
				'TooManyRequests',
				`Too many requests ${which}. Please retry after the time given in the Retry-After header.`,
				{ 'Retry-After': String(Math.max(1, Math.ceil(longest / 1000))) },
			);
		}
		windows.forEach((window) => window.add(now));
	}

	private windowFor(key: string, limit: number): SlidingWindow {
		let window = this.windows.get(key);
		if (!window) this.windows.set(key, (window = new SlidingWindow(limit)));
		return window;
	}
}
