import type { IDataObject, Logger } from 'n8n-workflow';

import { mapWithConcurrency } from '../concurrency/mapWithConcurrency';
import { limiterFor } from '../concurrency/keyedLimiter';
import type { GraphClient } from '../graph/graphClient';
import { callRecordItem } from '../notifications/callRecordItem';
import { DEDUPLICATION_WINDOW_MS, recentCallEventsFor } from '../notifications/recentCallEvents';
import { listRecentCallRecords } from './listRecentCallRecords';
import { readCallRecord, RECORD_READS_PER_TRIGGER, withSessions } from './readCallRecord';

/** How often the renewal timer sweeps (the first sweep comes this long after the timer starts). */
export const SWEEP_INTERVAL_MS = 15 * 60_000;
/**
 * How far back a sweep lists (by start time). It stays inside the deduplication window: a record whose
 * notification came was marked no earlier than the record started, so it is still remembered.
 */
export const SWEEP_WINDOW_MS = 4 * 3_600_000;
/** A record changed more recently than this still gives its notification the chance to come first. */
export const NOTIFICATION_GRACE_MS = 10 * 60_000;
/** Reads one sweep makes at most; the rest waits for the next sweep. */
export const MAX_READS_PER_SWEEP = 200;

if (SWEEP_WINDOW_MS >= DEDUPLICATION_WINDOW_MS) throw new Error('The sweep window must stay inside the deduplication window');

export interface SweepRequest {
	graph: GraphClient;
	/** The trigger's key (liveStateKey): the same deduplication and read limiter its notifications use. */
	triggerKey: string;
	/** Entra object IDs of the watched users, lower case; undefined for the whole tenant. */
	watchedUserIds: ReadonlySet<string> | undefined;
	includeSessions: boolean;
	includeRawNotification: boolean;
	/** For the items: a swept record has no notification to say its tenant. */
	tenantId: string | null;
	/**
	 * When this process started watching: a record that ended earlier may have had its notification in a
	 * process (or a run of this one) whose memory is gone, so it is left alone rather than emitted again.
	 */
	watchingSince: number;
	now: number;
	logger: Pick<Logger, 'info' | 'warn'>;
}

type ReadOutcome = { record: IDataObject } | { notWatched: true } | { missing: true };

const timeOf = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : NaN);

/** Participants (participants_v2 entities and their identities) and organizer of a record, by ID. */
function involvesWatchedUser(record: IDataObject, watched: ReadonlySet<string>): boolean {
	const ids: unknown[] = [];
	const collect = (entity: unknown) => {
		if (typeof entity !== 'object' || entity === null) return;
		const { id, identity } = entity as IDataObject;
		ids.push(id);
		if (typeof identity === 'object' && identity !== null) {
			for (const value of Object.values(identity as IDataObject)) {
				if (typeof value === 'object' && value !== null) ids.push((value as IDataObject).id);
			}
		}
	};
	(Array.isArray(record.participants_v2) ? record.participants_v2 : []).forEach(collect);
	collect(record.organizer_v2);
	return ids.some((id) => typeof id === 'string' && watched.has(id.toLowerCase()));
}

/**
 * Recovers call records whose notification never came (Graph has had incidents in which call-record
 * notifications stopped for hours): lists the records that started in the last SWEEP_WINDOW_MS and returns,
 * as call-record items, those this trigger has never seen, that ended while this process watched, and that
 * Graph last changed at least NOTIFICATION_GRACE_MS ago. Each is read as a notified record is (participants,
 * and sessions when asked), within the trigger's shared read limit; for watched users, a record none of them
 * took part in is remembered and not read again. Failures are logged, never thrown: the next sweep tries again.
 */
export async function sweepMissedCallRecords(request: SweepRequest): Promise<IDataObject[]> {
	const { graph, triggerKey, watchedUserIds, logger, now } = request;
	const recent = recentCallEventsFor(triggerKey);
	const notWatchedKey = (id: string) => `callRecordNotWatched:${id}`;

	let listed: Awaited<ReturnType<typeof listRecentCallRecords>>;
	try {
		listed = await listRecentCallRecords(graph, now - SWEEP_WINDOW_MS);
	} catch (error) {
		logger.warn(`Could not list recent call records to recover missed notifications; trying again at the next sweep: ${(error as Error).message}`);
		return [];
	}

	const candidates = listed.records
		.filter((record) => {
			const id = record.id;
			if (typeof id !== 'string' || !/^[0-9A-Za-z-]{1,128}$/.test(id)) return false;
			if (recent.has(`callRecord:${id}`) || recent.has(notWatchedKey(id))) return false;
			const ended = timeOf(record.endDateTime);
			const modified = timeOf(record.lastModifiedDateTime);
			return ended >= request.watchingSince && modified <= now - NOTIFICATION_GRACE_MS;
		})
		.sort((a, b) => timeOf(a.startDateTime) - timeOf(b.startDateTime));
	if (listed.truncated) {
		logger.warn(`Listed only the first ${listed.records.length} call records of the last ${SWEEP_WINDOW_MS / 3_600_000} hours to recover missed notifications`);
	}
	if (candidates.length > MAX_READS_PER_SWEEP) {
		logger.warn(
			`${candidates.length} call records may have missed their notification; reading ${MAX_READS_PER_SWEEP} now and the rest at the next sweep`,
		);
	}
	const toRead = candidates.slice(0, MAX_READS_PER_SWEEP).map((record) => record.id as string);

	const limiter = limiterFor(triggerKey, RECORD_READS_PER_TRIGGER);
	const outcomes = await mapWithConcurrency(toRead, RECORD_READS_PER_TRIGGER, (id) =>
		limiter.run(async (): Promise<ReadOutcome> => {
			const record = await readCallRecord(graph, id, { includeSessions: false });
			if (!record) return { missing: true };
			if (watchedUserIds && !involvesWatchedUser(record, watchedUserIds)) return { notWatched: true };
			if (!request.includeSessions) return { record };
			const complete = await withSessions(graph, id, record);
			return complete ? { record: complete } : { missing: true };
		}),
	);

	const receivedAt = new Date(now).toISOString();
	const items: IDataObject[] = [];
	const failed: string[] = [];
	for (const [index, id] of toRead.entries()) {
		const outcome = outcomes[index]!;
		if (!outcome.ok) {
			failed.push(`${id}: ${(outcome.error as Error).message}`);
			continue;
		}
		const result = outcome.value;
		if ('missing' in result) {
			failed.push(`${id}: listed, but Microsoft Graph answered 404 to its read`);
			continue;
		}
		if ('notWatched' in result) {
			recent.firstSighting(notWatchedKey(id));
			continue;
		}
		// The same keys readNotifiedCallRecords uses: whichever of the two reads a version first emits it.
		const version = typeof result.record.version === 'number' ? result.record.version : 0;
		if (recent.has(`callRecord:${id}`) || !recent.firstSighting(`callRecord:${id}@${version}`)) continue;
		recent.firstSighting(`callRecord:${id}`);
		items.push(callRecordItem({ detectedBy: 'sweep', tenantId: request.tenantId }, result.record, 'callEnded', receivedAt, request.includeRawNotification));
	}

	if (failed.length > 0) {
		logger.warn(`Could not read ${failed.length} call records to recover missed notifications; trying again at the next sweep. First: ${failed[0]}`);
	}
	if (items.length > 0) {
		logger.info(`Recovered ${items.length} call records whose notification never came (found by listing recent call records)`);
	}
	return items;
}
