import { sleep, type IDataObject, type IWebhookFunctions } from 'n8n-workflow';

import { BoundedCache } from '../boundedCache';
import { readCallRecord, RECORD_READS_PER_TRIGGER } from '../callRecords/readCallRecord';
import { mapWithConcurrency } from '../concurrency/mapWithConcurrency';
import { limiterFor, type Limiter } from '../concurrency/keyedLimiter';
import { GraphApiError } from '../graph/graphApiError';
import type { GraphClient } from '../graph/graphClient';
import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import { callRecordItem, type CallRecordItemEvent } from '../notifications/callRecordItem';
import { recentCallEventsFor } from '../notifications/recentCallEvents';
import { callRecordIdOf } from '../subscriptions/callSources';
import { notificationGraphClient } from './notificationGraphClient';
import type { TriggerParameters } from './triggerParameters';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

type ReadOutcome = { record: IDataObject } | { notFound: true } | { error: Error };

/** Reads in progress per trigger and record ID: a second notification for the record waits for the same read. */
const inFlight = new BoundedCache<string, Map<string, Promise<ReadOutcome>>>(256);

/**
 * Reads one record, asking again while Graph answers 404 (a new record can be unreadable for a while)
 * or keeps failing in a way worth retrying (GraphClient already honours Retry-After and backs off on 5xx
 * in place), until `waitMs` is spent. Each attempt takes a place in the trigger's read limit and gives it
 * back before waiting, so records Graph cannot return yet never hold back readable ones.
 */
async function readWhenAvailable(limiter: Limiter, graph: () => Promise<GraphClient>, id: string, includeSessions: boolean, waitMs: number): Promise<ReadOutcome> {
	const deadline = Date.now() + waitMs;
	let backoff = FIRST_RETRY_MS;
	for (;;) {
		let outcome: ReadOutcome;
		let waitFor = backoff;
		try {
			const record = await limiter.run(async () => readCallRecord(await graph(), id, { includeSessions }));
			if (record) return { record };
			outcome = { notFound: true };
		} catch (error) {
			if (!(error instanceof GraphApiError) || !error.isRetryable) return { error: error as Error };
			outcome = { error };
			if (error.retryAfterSeconds !== undefined) waitFor = Math.max(waitFor, error.retryAfterSeconds * 1000);
		}
		if (Date.now() + waitFor > deadline) return outcome;
		await sleep(waitFor);
		backoff = Math.min(backoff * 2, MAX_RETRY_MS);
	}
}

/**
 * Basic call-record notifications → call-record items. The notification proves nothing by itself (it
 * passed the clientState check and names an ID): each record is read from Graph with our own token, and a
 * record Graph does not have is dropped and logged, never emitted. Runs after the 202.
 *
 * Deduplication: a record whose first version was emitted is never read again when only "Call Ended" is
 * wanted; with "Call Record Updated", each version is emitted once (the version is known only after the
 * read, so a redelivered notification of a seen version costs a read but runs nothing). The first version
 * emitted for a record is its `callEnded` item, any later one `callRecordUpdated`.
 */
export async function readNotifiedCallRecords(
	context: IWebhookFunctions,
	accepted: AuthenticatedItem[],
	parameters: TriggerParameters,
	triggerKey: string,
	receivedAt: string,
): Promise<IDataObject[]> {
	const wanted = parameters.callRecords.events;
	const recent = recentCallEventsFor(triggerKey);
	const reads = inFlight.getOrCreate(triggerKey, () => new Map());
	const limiter = limiterFor(triggerKey, RECORD_READS_PER_TRIGGER);
	const waitMs = parameters.callRecords.waitForRecordSeconds * 1000;
	let graph: GraphClient | undefined;
	const graphClient = async () => (graph ??= await notificationGraphClient(context, 'v1.0'));

	let malformed = 0;
	const notFound: string[] = [];
	const failed: string[] = [];
	const candidates: Array<{ item: Record<string, unknown>; id: string }> = [];
	for (const { item } of accepted) {
		const id = callRecordIdOf(item.resource);
		const dataId = (item.resourceData as { id?: unknown } | undefined)?.id;
		if (!id || (dataId !== undefined && dataId !== id)) {
			malformed++;
			continue;
		}
		// Only the first version is wanted, and it was emitted: nothing to read.
		if (!wanted.includes('callRecordUpdated') && recent.has(`callRecord:${id}`)) continue;
		candidates.push({ item, id });
	}

	// Every candidate starts at once: the limiter bounds the reads themselves, not the waits between them.
	const outcomes = await mapWithConcurrency(candidates, Math.max(1, candidates.length), async ({ id }) => {
		let read = reads.get(id);
		if (!read) {
			read = readWhenAvailable(limiter, graphClient, id, parameters.callRecords.includeSessions, waitMs).finally(() => reads.delete(id));
			reads.set(id, read);
		}
		return read;
	});

	const items: IDataObject[] = [];
	for (const [index, { item, id }] of candidates.entries()) {
		const outcome = outcomes[index]!;
		const result: ReadOutcome = outcome.ok ? outcome.value : { error: outcome.error as Error };
		if ('notFound' in result) {
			notFound.push(id);
			continue;
		}
		if ('error' in result) {
			failed.push(`${id}: ${result.error.message}`);
			continue;
		}
		const version = typeof result.record.version === 'number' ? result.record.version : 0;
		if (!recent.firstSighting(`callRecord:${id}@${version}`)) continue;
		const event: CallRecordItemEvent = recent.has(`callRecord:${id}`) ? 'callRecordUpdated' : 'callEnded';
		recent.firstSighting(`callRecord:${id}`);
		if (wanted.includes(event)) {
			items.push(callRecordItem({ detectedBy: 'notification', notification: item }, result.record, event, receivedAt, parameters.includeRawNotification));
		}
	}

	if (malformed > 0) {
		context.logger.warn(`Dropped ${malformed} call-record notifications that name no call record`);
	}
	if (notFound.length > 0) {
		context.logger.warn(
			`Dropped ${notFound.length} call-record notifications: Microsoft Graph has no such call record (asked for ${parameters.callRecords.waitForRecordSeconds} s); first: ${notFound[0]}`,
		);
	}
	if (failed.length > 0) {
		context.logger.warn(`Could not read ${failed.length} notified call records from Microsoft Graph; first: ${failed[0]}`);
	}
	return items;
}
