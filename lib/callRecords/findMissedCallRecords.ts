import type { IDataObject, Logger } from 'n8n-workflow';

import { listRecentCallRecords, type CallRecordLister } from './listRecentCallRecords';

/** How often the renewal timer sweeps. */
export const SWEEP_INTERVAL_MS = 15 * 60_000;
/** The first sweep this long after the timer starts: a restart recovers what ended while n8n was down. */
export const FIRST_SWEEP_DELAY_MS = 60_000;
/** How far back a sweep lists (by start time). */
export const SWEEP_WINDOW_MS = 4 * 3_600_000;
/** A record changed more recently than this still gives its notification the chance to come first. */
export const NOTIFICATION_GRACE_MS = 10 * 60_000;
/** Records one sweep hands on at most; the rest wait for the next sweep. */
export const MAX_RECORDS_PER_SWEEP = 200;

export interface SweepRequest {
	lister: CallRecordLister;
	/** Entra object IDs of the watched users, lower case; undefined for the whole tenant. */
	watchedUserIds: ReadonlySet<string> | undefined;
	/** Whether this process already knows the record ran or was handed on. */
	known: (id: string) => boolean;
	now: number;
	logger: Pick<Logger, 'info' | 'warn'>;
}

const timeOf = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : NaN);
const RECORD_ID = /^[0-9A-Za-z-]{1,128}$/;

/**
 * Call records whose notification may never have come (Graph has had incidents in which call-record
 * notifications stopped for hours): the IDs of the records of the watched users (or the tenant) that started
 * in the last SWEEP_WINDOW_MS, have ended, and that Graph last changed at least NOTIFICATION_GRACE_MS ago,
 * less those this process knows about. What already ran elsewhere or before a restart is for n8n's store to
 * say, in the execution the sweep starts. Failures are logged, never thrown: the next sweep tries again.
 */
export async function findMissedCallRecords(request: SweepRequest): Promise<string[]> {
	const { logger, now } = request;
	let listed: Awaited<ReturnType<typeof listRecentCallRecords>>;
	try {
		listed = await listRecentCallRecords(request.lister, now - SWEEP_WINDOW_MS, request.watchedUserIds);
	} catch (error) {
		logger.warn(`Could not list recent call records to recover missed notifications; trying again at the next sweep: ${(error as Error).message}`);
		return [];
	}
	if (listed.truncated) logger.warn(`Listed only the first ${listed.records.length} recent call records to recover missed notifications`);
	const candidates = listed.records
		.filter((record: IDataObject) => {
			const id = record.id;
			if (typeof id !== 'string' || !RECORD_ID.test(id) || request.known(id)) return false;
			return !Number.isNaN(timeOf(record.endDateTime)) && timeOf(record.lastModifiedDateTime) <= now - NOTIFICATION_GRACE_MS;
		})
		.sort((a, b) => timeOf(a.startDateTime) - timeOf(b.startDateTime))
		.map((record) => record.id as string);
	if (candidates.length > MAX_RECORDS_PER_SWEEP) {
		logger.warn(`${candidates.length} call records may have missed their notification; handing on ${MAX_RECORDS_PER_SWEEP} now and the rest at the next sweep`);
	}
	return candidates.slice(0, MAX_RECORDS_PER_SWEEP);
}
