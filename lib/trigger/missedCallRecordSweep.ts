import { NodeOperationError, sleep, type ITriggerFunctions } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { filterCanaryMessage } from '../callRecords/filterCanary';
import { FIRST_SWEEP_DELAY_MS, findMissedCallRecords } from '../callRecords/findMissedCallRecords';
import { sweepIntervalMs } from '../callRecords/sweepInterval';
import { sweptCallRecordItem } from '../delivery/admittedDelivery';
import { triggerRuntimeFor } from '../delivery/triggerRuntime';
import { GraphClient } from '../graph/graphClient';
import { currentState, liveStateKey } from '../subscriptions/liveSubscriptionStates';
import { readSubscriptionState, writeSubscriptionState, type SubscriptionState } from '../subscriptions/subscriptionState';
import { APP_CREDENTIAL } from './credentialNames';
import { readTriggerParameters } from './triggerParameters';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const callRecordsTargetsOf = (state: SubscriptionState) =>
	state.slots.flatMap((slot) => (slot.target?.kind === 'callRecords' ? [slot.target] : []));

/** The watched users' IDs (looked up at activation), from the subscriptions' filters or the "After Reading" list; undefined for the whole tenant. */
function watchedUserIdsOf(state: SubscriptionState): ReadonlySet<string> | undefined | null {
	const targets = callRecordsTargetsOf(state);
	if (targets.length === 0) return null;
	const watched = targets.flatMap((target) => target.keptParticipantIds ?? target.participantIds);
	if (watched.length === 0) return undefined;
	return new Set(watched.map((id) => id.toLowerCase()));
}

/** Whether Graph's participants filter picks the watched users' calls: only then is a missed record a sign it stopped matching. */
const filteredInGraph = (state: SubscriptionState) =>
	callRecordsTargetsOf(state).some((target) => !target.keptParticipantIds && target.participantIds.length > 0);

/**
 * The canary needs to know whether notifications reach the trigger. In queue mode (and so with several mains)
 * they run on other processes, which this process never hears of: it stays silent there.
 */
const notificationsRunHere = () => process.env.EXECUTIONS_MODE !== 'queue';

/**
 * The renewal timer's second job for a Call Records trigger: FIRST_SWEEP_DELAY_MS after the timer starts (so
 * that a restart recovers what ended while n8n was down) and then every sweepIntervalMs() (15 minutes by default), list the records
 * whose notification may never have come and emit them. The execution that starts reads each and lets n8n's
 * store drop what already ran, so this works after a restart and in queue mode alike. With Graph's participants
 * filter ("In Graph"), it is also the filter's canary: records of watched users missed by several sweeps in a row,
 * with no notification in between, are reported as a failed execution (lib/callRecords/filterCanary.ts), in
 * addition to running them. Returns what the timer calls after each renewal tick; it does nothing until a sweep is
 * due, never runs two at once, never throws.
 */
export function missedCallRecordSweep(context: ITriggerFunctions, startedAt: number): () => Promise<void> {
	let nextSweepAt = startedAt + FIRST_SWEEP_DELAY_MS;
	const intervalMs = sweepIntervalMs();
	let sweeping = false;

	const sweep = async () => {
		const parameters = readTriggerParameters(context);
		const { callRecords } = parameters;
		if (parameters.source !== 'callRecords' || !callRecords.recoverMissed || !callRecords.events.includes('callEnded')) return;
		const saved = readSubscriptionState(context.getWorkflowStaticData('node'));
		if (!saved) return;
		const triggerKey = liveStateKey(context.getWorkflow().id ?? '', context.getNode().name, saved.notificationUrl);
		const state = currentState(triggerKey, saved);
		const watchedUserIds = state ? watchedUserIdsOf(state) : null;
		if (!state || watchedUserIds === null) return;

		const credential = readAppCredential(await context.getCredentials(APP_CREDENTIAL));
		// One retry in place: the next sweep is the real retry.
		const graph = new GraphClient(context.helpers.httpRequest.bind(context.helpers), credential, { apiVersion: 'v1.0', sleep, maxAttempts: 2, logger: context.logger });
		const runtime = triggerRuntimeFor(context);
		const ids = await findMissedCallRecords({
			lister: { graph, sleep },
			watchedUserIds,
			known: (id) => runtime.recordIsKnown(id),
			now: Date.now(),
			logger: context.logger,
		});
		const canary = filteredInGraph(state) && notificationsRunHere() ? runtime.filterCanary.sweepFound(ids.length, Date.now()) : undefined;
		if (ids.length === 0) return;
		ids.forEach((id) => runtime.recordHandedOn(id));
		const tenantId = GUID.test(credential.tenantId) ? credential.tenantId.toLowerCase() : null;
		const receivedAt = new Date().toISOString();
		// emit() makes n8n save this trigger's copy of the static data, taken at activation: bring it up to the
		// newest state this process knows, so the save does not put back subscriptions renewal or a lifecycle
		// event has since replaced.
		const newest = currentState(triggerKey, readSubscriptionState(context.getWorkflowStaticData('node')));
		if (newest) writeSubscriptionState(context.getWorkflowStaticData('node'), newest);
		context.emit([context.helpers.returnJsonArray(ids.map((id) => sweptCallRecordItem(id, tenantId, receivedAt)))]);
		if (canary) {
			const message = filterCanaryMessage(canary.missedRecords, canary.sweeps);
			context.logger.warn(`Microsoft Teams Call Trigger, workflow ${context.getWorkflow().id ?? ''}: ${message}`);
			context.saveFailedExecution(new NodeOperationError(context.getNode(), message));
		}
	};

	return async () => {
		if (sweeping || Date.now() < nextSweepAt) return;
		sweeping = true;
		nextSweepAt = Date.now() + intervalMs;
		try {
			await sweep();
		} catch (error) {
			context.logger.warn(`Missed call records could not be recovered; trying again at the next sweep: ${(error as Error).message}`);
		} finally {
			sweeping = false;
		}
	};
}
