import { sleep, type ITriggerFunctions } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { SWEEP_INTERVAL_MS, sweepMissedCallRecords } from '../callRecords/sweepMissedCallRecords';
import { GraphClient } from '../graph/graphClient';
import { currentState, liveStateKey } from '../subscriptions/liveSubscriptionStates';
import { readSubscriptionState, writeSubscriptionState, type SubscriptionState } from '../subscriptions/subscriptionState';
import { APP_CREDENTIAL } from './credentialNames';
import { readTriggerParameters } from './triggerParameters';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The watched users' IDs from the subscriptions' filters (looked up at activation); undefined for the whole tenant. */
function watchedUserIdsOf(state: SubscriptionState): ReadonlySet<string> | undefined | null {
	const targets = state.slots.flatMap((slot) => (slot.target?.kind === 'callRecords' ? [slot.target] : []));
	if (targets.length === 0) return null;
	if (targets.some((target) => target.participantIds.length === 0)) return undefined;
	return new Set(targets.flatMap((target) => target.participantIds.map((id) => id.toLowerCase())));
}

/**
 * The renewal timer's second job for a Call Records trigger: every SWEEP_INTERVAL_MS (the first one that long
 * after the timer started), recover the records whose notification never came, and emit them. Returns what
 * the timer calls after each renewal tick; it does nothing until a sweep is due, never runs two sweeps at once,
 * and never throws.
 *
 * Not in queue mode: notifications are then handled by webhook processes whose deduplication this process
 * (the leader) cannot see, so a sweep here would run every call twice.
 */
export function missedCallRecordSweep(context: ITriggerFunctions, watchingSince: number): () => Promise<void> {
	let nextSweepAt = watchingSince + SWEEP_INTERVAL_MS;
	let sweeping = false;
	let toldQueueMode = false;

	const sweep = async () => {
		const parameters = readTriggerParameters(context);
		const { callRecords } = parameters;
		if (parameters.source !== 'callRecords' || !callRecords.recoverMissed || !callRecords.events.includes('callEnded')) return;
		if (process.env.EXECUTIONS_MODE === 'queue') {
			if (!toldQueueMode) {
				toldQueueMode = true;
				context.logger.info(
					'Missed call records are not recovered in queue mode: the webhook processes that receive the notifications keep their own memory of them, so a sweep here would run calls twice',
				);
			}
			return;
		}
		const saved = readSubscriptionState(context.getWorkflowStaticData('node'));
		if (!saved) return;
		const triggerKey = liveStateKey(context.getWorkflow().id ?? '', context.getNode().name, saved.notificationUrl);
		const state = currentState(triggerKey, saved);
		const watchedUserIds = state ? watchedUserIdsOf(state) : null;
		if (!state || watchedUserIds === null) return;

		const credential = readAppCredential(await context.getCredentials(APP_CREDENTIAL));
		// One retry in place: the next sweep is the real retry.
		const graph = new GraphClient(context.helpers.httpRequest.bind(context.helpers), credential, { apiVersion: 'v1.0', sleep, maxAttempts: 2 });
		const items = await sweepMissedCallRecords({
			graph,
			triggerKey,
			watchedUserIds,
			includeSessions: callRecords.includeSessions,
			includeRawNotification: parameters.includeRawNotification,
			tenantId: GUID.test(credential.tenantId) ? credential.tenantId.toLowerCase() : null,
			watchingSince,
			now: Date.now(),
			logger: context.logger,
		});
		if (items.length === 0) return;
		// emit() makes n8n save this trigger's copy of the static data, taken at activation: bring it up to the
		// newest state this process knows, so the save does not put back subscriptions renewal or a lifecycle
		// event has since replaced.
		const newest = currentState(triggerKey, readSubscriptionState(context.getWorkflowStaticData('node')));
		if (newest) writeSubscriptionState(context.getWorkflowStaticData('node'), newest);
		context.emit([context.helpers.returnJsonArray(items)]);
	};

	return async () => {
		if (sweeping || Date.now() < nextSweepAt) return;
		sweeping = true;
		nextSweepAt = Date.now() + SWEEP_INTERVAL_MS;
		try {
			await sweep();
		} catch (error) {
			context.logger.warn(`Missed call records could not be recovered; trying again at the next sweep: ${(error as Error).message}`);
		} finally {
			sweeping = false;
		}
	};
}
