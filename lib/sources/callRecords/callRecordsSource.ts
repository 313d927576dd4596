import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { hasWatchedParticipant } from '../../callRecords/watchedParticipants';
import { mapWithConcurrency } from '../../concurrency/mapWithConcurrency';
import type { Delivery } from '../../delivery/admittedDelivery';
import type { TriggerRuntime } from '../../delivery/triggerRuntime';
import { callRecordItem, type CallRecordItemEvent, type CallRecordOrigin } from '../../notifications/callRecordItem';
import { callRecordIdOf } from '../../subscriptions/callSources';
import { NotificationGraph } from '../../trigger/notificationGraphClient';
import type { TriggerParameters } from '../../trigger/triggerParameters';
import type { DeliverySource } from '../deliverySource';
import { recordIdentity, recordVersionIdentity } from './callRecordIdentities';
import { readWhenAvailable } from './readWhenAvailable';
import { unreadableRecordsError, type UnreadableRecord } from './unreadableRecords';

interface Candidate {
	id: string;
	origin: CallRecordOrigin;
	receivedAt: string;
	/** Filter "After Reading": the watched users, one of whom must be among the record's participants. */
	keptFor?: string[];
}

/** The record a delivery names: a notification's resource (and its resourceData.id, which must agree), or a swept ID. */
function candidateOf(delivery: Delivery): Candidate | undefined {
	if (delivery.kind === 'sweptCallRecord') {
		return { id: delivery.id, origin: { detectedBy: 'sweep', tenantId: delivery.tenantId }, receivedAt: delivery.receivedAt };
	}
	const { notification } = delivery;
	const id = callRecordIdOf(notification.resource);
	const dataId = (notification.resourceData as { id?: unknown } | undefined)?.id;
	if (!id || (dataId !== undefined && dataId !== id)) return undefined;
	const target = delivery.watched.target;
	const keptFor = target?.kind === 'callRecords' ? target.keptParticipantIds : undefined;
	return { id, origin: { detectedBy: 'notification', notification }, receivedAt: delivery.receivedAt, ...(keptFor ? { keptFor } : {}) };
}

/**
 * Call records: a notification proves nothing by itself (it passed the clientState check and names an ID), so
 * each record is read from Graph with our own token, asking again while Graph answers 404 for up to "Wait for
 * New Records", and once more with the credential read again when Entra ID refuses its token. A record that
 * still cannot be read is never emitted nor marked as run, and is reported as a failed execution: this one when
 * nothing else of it runs, else one the active trigger records, so the readable records still run now. The
 * sweep's records take the same path. n8n's store then decides what already ran: a record's first version run is its `callEnded`
 * item, a later version (with "Call Record Updated") its `callRecordUpdated` item, each once, in whichever
 * process and after any restart.
 */
async function readCallRecords(
	context: IExecuteFunctions,
	deliveries: Delivery[],
	parameters: TriggerParameters,
	runtime: TriggerRuntime,
): Promise<IDataObject[]> {
	const wanted = parameters.callRecords.events;
	const updatesWanted = wanted.includes('callRecordUpdated');
	// A test run neither uses nor adds to what production runs remember, here or in n8n's store.
	const known = context.getMode() === 'manual' ? undefined : runtime.knownRecords;
	let malformed = 0;
	const candidates: Candidate[] = [];
	for (const delivery of deliveries) {
		const candidate = candidateOf(delivery);
		if (!candidate) {
			malformed++;
			continue;
		}
		// Graph is delivering: the "In Graph" filter's canary starts counting again.
		if (known && candidate.origin.detectedBy === 'notification') runtime.filterCanary.notificationArrived();
		// Only the first version is wanted, and it ran in this process: nothing to read.
		if (updatesWanted || !known?.get(candidate.id)) candidates.push(candidate);
	}
	if (malformed > 0) context.logger.warn(`Dropped ${malformed} call-record notification(s) that name no call record`);
	if (candidates.length === 0) return [];

	const graph = new NotificationGraph(context, 'v1.0');
	const waitMs = parameters.callRecords.waitForRecordSeconds * 1000;
	// Every candidate starts at once: the trigger's limiter bounds the reads themselves, not the waits between them.
	const outcomes = await mapWithConcurrency(candidates, candidates.length, async ({ id }) => {
		let read = runtime.readsInFlight.get(id);
		if (!read) {
			read = readWhenAvailable(runtime.recordReads, graph, id, parameters.callRecords.includeSessions, waitMs).finally(() =>
				runtime.readsInFlight.delete(id),
			);
			runtime.readsInFlight.set(id, read);
		}
		return read;
	});

	const unreadable: UnreadableRecord[] = [];
	let othersCalls = 0;
	const read: Array<{ candidate: Candidate; record: IDataObject; version: number }> = [];
	for (const [index, candidate] of candidates.entries()) {
		const outcome = outcomes[index]!;
		const result = outcome.ok ? outcome.value : { error: outcome.error as Error };
		if ('notFound' in result) unreadable.push({ id: candidate.id, detectedBy: candidate.origin.detectedBy, cause: { notFound: true } });
		else if ('error' in result) unreadable.push({ id: candidate.id, detectedBy: candidate.origin.detectedBy, cause: { error: result.error } });
		// Another user's call: no item, and nothing recorded, so that nothing stops a later correct handling of it.
		else if (candidate.keptFor && !hasWatchedParticipant(result.record, candidate.keptFor)) othersCalls++;
		else read.push({ candidate, record: result.record, version: typeof result.record.version === 'number' ? result.record.version : 0 });
	}
	if (othersCalls > 0) context.logger.debug(`Left out ${othersCalls} call record(s) in which no watched user took part (Filter: After Reading)`);

	const identitiesOf = (id: string, version: number) => (updatesWanted ? [recordVersionIdentity(id, version), recordIdentity(id)] : [recordIdentity(id)]);
	const processed = await runtime.processed.processedAmong(context, read.flatMap(({ candidate, version }) => identitiesOf(candidate.id, version)));
	const ranNow = new Set<string>();
	const ran = (identity: string) => processed.has(identity) || ranNow.has(identity);
	const items: IDataObject[] = [];
	for (const { candidate, record, version } of read) {
		const { id } = candidate;
		const versionRan = updatesWanted ? ran(recordVersionIdentity(id, version)) : ran(recordIdentity(id));
		const event: CallRecordItemEvent = ran(recordIdentity(id)) ? 'callRecordUpdated' : 'callEnded';
		identitiesOf(id, version).forEach((identity) => ranNow.add(identity));
		known?.set(id, true);
		if (versionRan || !wanted.includes(event)) continue;
		items.push(callRecordItem(candidate.origin, record, event, candidate.receivedAt, parameters.includeRawNotification));
	}

	if (unreadable.length > 0) reportUnreadable(context, runtime, unreadable, items.length, parameters.callRecords.waitForRecordSeconds);
	const swept = items.filter((item) => item.detectedBy === 'sweep').length;
	if (swept > 0) context.logger.info(`Recovered ${swept} call record(s) whose notification never came (found by listing recent call records)`);
	return items;
}

/**
 * Fails this execution when nothing of it runs (n8n's "Retry" then reads again), else has the active trigger
 * record a failed execution, so the readable records still run now. Without an active trigger in this process
 * (a queue-mode worker, a test run) the mixed case can only be logged; the sweep runs those records later.
 */
function reportUnreadable(context: IExecuteFunctions, runtime: TriggerRuntime, unreadable: UnreadableRecord[], itemCount: number, waitSeconds: number): void {
	const error = unreadableRecordsError(context.getNode(), unreadable, waitSeconds);
	if (itemCount === 0) throw error;
	if (context.getMode() !== 'manual' && runtime.failedExecutions.record(error)) return;
	context.logger.error(`${error.message}\n${error.description ?? ''}`);
}

export const callRecordsSource: DeliverySource = { work: readCallRecords };
