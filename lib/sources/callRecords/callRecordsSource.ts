import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { mapWithConcurrency } from '../../concurrency/mapWithConcurrency';
import type { Delivery } from '../../delivery/admittedDelivery';
import type { TriggerRuntime } from '../../delivery/triggerRuntime';
import type { GraphClient } from '../../graph/graphClient';
import { hasWatchedParticipant } from '../../callRecords/watchedParticipants';
import { callRecordItem, type CallRecordItemEvent, type CallRecordOrigin } from '../../notifications/callRecordItem';
import { callRecordIdOf } from '../../subscriptions/callSources';
import { notificationGraphClient } from '../../trigger/notificationGraphClient';
import type { TriggerParameters } from '../../trigger/triggerParameters';
import type { DeliverySource } from '../deliverySource';
import { recordIdentity, recordVersionIdentity } from './callRecordIdentities';
import { readWhenAvailable } from './readWhenAvailable';

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
 * New Records"; a record Graph does not have is dropped and logged, never emitted. The sweep's records take
 * the same path. n8n's store then decides what already ran: a record's first version run is its `callEnded`
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

	let graph: GraphClient | undefined;
	const graphClient = async () => (graph ??= await notificationGraphClient(context, 'v1.0'));
	const waitMs = parameters.callRecords.waitForRecordSeconds * 1000;
	// Every candidate starts at once: the trigger's limiter bounds the reads themselves, not the waits between them.
	const outcomes = await mapWithConcurrency(candidates, candidates.length, async ({ id }) => {
		let read = runtime.readsInFlight.get(id);
		if (!read) {
			read = readWhenAvailable(runtime.recordReads, graphClient, id, parameters.callRecords.includeSessions, waitMs).finally(() =>
				runtime.readsInFlight.delete(id),
			);
			runtime.readsInFlight.set(id, read);
		}
		return read;
	});

	const notFound: string[] = [];
	const failed: string[] = [];
	let othersCalls = 0;
	const read: Array<{ candidate: Candidate; record: IDataObject; version: number }> = [];
	for (const [index, candidate] of candidates.entries()) {
		const outcome = outcomes[index]!;
		const result = outcome.ok ? outcome.value : { error: outcome.error as Error };
		if ('notFound' in result) notFound.push(candidate.id);
		else if ('error' in result) failed.push(`${candidate.id}: ${result.error.message}`);
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

	if (notFound.length > 0) {
		context.logger.warn(
			`Dropped ${notFound.length} call record(s): Microsoft Graph has no such call record (asked for ${parameters.callRecords.waitForRecordSeconds} s); first: ${notFound[0]}`,
		);
	}
	if (failed.length > 0) context.logger.warn(`Could not read ${failed.length} call record(s) from Microsoft Graph; first: ${failed[0]}`);
	const swept = items.filter((item) => item.detectedBy === 'sweep').length;
	if (swept > 0) context.logger.info(`Recovered ${swept} call record(s) whose notification never came (found by listing recent call records)`);
	return items;
}

export const callRecordsSource: DeliverySource = { work: readCallRecords };
