import type { Logger } from 'n8n-workflow';

import { BoundedCache } from '../boundedCache';

/**
 * Graph's throttling limits for call records (learn.microsoft.com/graph/throttling-limits, "Call records
 * service limits"), each over 20 s: 1,500 requests per app and tenant, 40 per call record, 40 for listing.
 */
export const CALL_RECORD_LIMITS = { perAppAndTenant: 1500, perRecord: 40, listing: 40 } as const;
const GRAPH_WINDOW_MS = 20_000;
/** Our window is longer than Graph's: requests sent just over 20 s apart can arrive just under 20 s apart. */
const WINDOW_MS = GRAPH_WINDOW_MS + 1_000;
/** Holds shorter than this are not worth a log line. */
const MOMENT_MS = 1_000;
/** A waiting request looks at the windows again at least this often, so they follow the wall clock. */
const RECHECK_MS = 1_000;
/** More records than the per-app limit lets through in one window: a record's window is never forgotten while it counts. */
const RECORD_WINDOWS = 2 * CALL_RECORD_LIMITS.perAppAndTenant;

/** What one request under communications/callRecords is counted against, besides the app's total. */
export type CallRecordRequest = { record: string } | 'listing';

const CALL_RECORDS_PATH = /^\/[^/?]+\/communications\/callRecords(?:\/([^/?]+))?(?:[/?]|$)/i;

/** The call-record request a Graph path (`/v1.0/communications/callRecords…`) is, or undefined for any other. */
export function callRecordRequestOf(path: string): CallRecordRequest | undefined {
	const match = CALL_RECORDS_PATH.exec(path);
	if (!match) return undefined;
	return match[1] ? { record: match[1].toLowerCase() } : 'listing';
}

/** The send times of the last WINDOW_MS. */
class SlidingWindow {
	private readonly times: number[] = [];

	constructor(
		readonly limit: number,
		readonly scope: string,
	) {}

	/** Milliseconds until one more request fits (0: now). */
	waitMs(now: number): number {
		while (this.times.length > 0 && this.times[0]! <= now - WINDOW_MS) this.times.shift();
		if (this.times.length < this.limit) return 0;
		return this.times[this.times.length - this.limit]! + WINDOW_MS - now;
	}

	add(now: number): void {
		this.times.push(now);
	}
}

type PaceLogger = Pick<Logger, 'info' | 'warn'>;

/**
 * The call-record requests of one app in one tenant, whichever triggers make them: each waits until it fits
 * in all of Graph's windows it counts against, and after a 429 all wait for its Retry-After. Graph counts
 * the three limits per app and tenant, so keeping them here keeps every trigger on the app under them too.
 */
export class CallRecordPace {
	private readonly total = new SlidingWindow(CALL_RECORD_LIMITS.perAppAndTenant, 'call-record requests per 20 s per app and tenant');
	private readonly listing = new SlidingWindow(CALL_RECORD_LIMITS.listing, 'requests listing call records per 20 s');
	private readonly records = new BoundedCache<string, SlidingWindow>(RECORD_WINDOWS);
	private blockedUntil = 0;
	/** When the hold last logged for each limit ends: one line per hold, however many requests wait in it. */
	private readonly holdLoggedUntil = new Map<string, number>();

	async admit(request: CallRecordRequest, logger?: PaceLogger): Promise<void> {
		for (;;) {
			const now = Date.now();
			const windows = [this.total, request === 'listing' ? this.listing : this.recordWindow(request.record)];
			const waits = windows.map((window) => ({ ms: window.waitMs(now), reason: `Microsoft Graph allows ${window.limit.toLocaleString('en-US')} ${window.scope}` }));
			waits.push({ ms: this.blockedUntil - now, reason: 'Microsoft Graph answered 429 Too Many Requests and asked to wait' });
			const longest = waits.reduce((a, b) => (b.ms > a.ms ? b : a));
			if (longest.ms <= 0) {
				windows.forEach((window) => window.add(now));
				return;
			}
			if (longest.ms > MOMENT_MS && (this.holdLoggedUntil.get(longest.reason) ?? 0) <= now) {
				this.holdLoggedUntil.set(longest.reason, now + longest.ms);
				logger?.info(`Holding back call-record requests for ${Math.ceil(longest.ms / 1000)} s: ${longest.reason}`);
			}
			await new Promise((resolve) => setTimeout(resolve, Math.min(longest.ms, RECHECK_MS)));
		}
	}

	/** A 429 that still came: every call-record request of the app waits out its Retry-After. */
	throttled(retryAfterSeconds: number | undefined, logger?: PaceLogger): void {
		const seconds = retryAfterSeconds ?? 1;
		this.blockedUntil = Math.max(this.blockedUntil, Date.now() + seconds * 1000);
		logger?.warn(`Microsoft Graph answered 429 Too Many Requests to a call-record request; waiting ${seconds} s as its Retry-After asks`);
	}

	private recordWindow(id: string): SlidingWindow {
		return this.records.getOrCreate(id, () => new SlidingWindow(CALL_RECORD_LIMITS.perRecord, 'requests per 20 s for one call record'));
	}
}
