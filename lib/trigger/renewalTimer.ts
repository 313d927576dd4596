import { NodeOperationError, type CronExpression, type ITriggerFunctions, type ITriggerResponse } from 'n8n-workflow';

import { triggerRuntimeFor } from '../delivery/triggerRuntime';
import { currentState, liveStateKey, rememberState } from '../subscriptions/liveSubscriptionStates';
import { withLock } from '../subscriptions/lock';
import { RenewalHealth } from '../subscriptions/renewalHealth';
import { renewSubscriptions } from '../subscriptions/renewSubscriptions';
import { readSubscriptionState } from '../subscriptions/subscriptionState';
import { manualHandoff } from './manualHandoff';
import { missedCallRecordSweep } from './missedCallRecordSweep';
import { subscriptionDepsFor } from './subscriptionDepsFor';

/** Often enough for short test lifetimes; a tick with nothing due costs no Graph call. */
export const RENEWAL_TICK: CronExpression = '*/10 * * * * *';

/**
 * The renewal timer: runs without any traffic, and only on the instance n8n makes leader (registerCron
 * fires there only). It reads the subscriptions lazily because n8n may start it before create() ran,
 * or keep it running after create() failed.
 */
export async function startRenewalTimer(this: ITriggerFunctions): Promise<ITriggerResponse> {
	if (this.getMode() === 'manual') return manualHandoff(this);

	const health = new RenewalHealth();
	const detachFailedExecutions = triggerRuntimeFor(this).failedExecutions.attach((error) => this.saveFailedExecution(error));
	const keys = new Set<string>();
	let running = false;

	const tick = async () => {
		const saved = readSubscriptionState(this.getWorkflowStaticData('node'));
		if (!saved) return;
		const key = liveStateKey(this.getWorkflow().id ?? '', this.getNode().name, saved.notificationUrl);
		keys.add(key);
		await withLock(key, async () => {
			const state = currentState(key, saved);
			if (!state) return;
			const outcome = await renewSubscriptions(await subscriptionDepsFor(this, state.apiVersion), state, health);
			rememberState(key, outcome.state);
			for (const report of outcome.reports) {
				this.saveFailedExecution(new NodeOperationError(this.getNode(), report));
			}
		});
	};

	let lastSetupFailureAt = 0;
	const renew = async (): Promise<void> => {
		if (running) return;
		running = true;
		try {
			await tick();
		} catch (error) {
			// Credentials unreadable or similar: log each time, report at most hourly.
			this.logger.warn(`Microsoft Teams call subscription renewal could not run: ${(error as Error).message}`);
			if (Date.now() - lastSetupFailureAt > 3_600_000) {
				lastSetupFailureAt = Date.now();
				this.saveFailedExecution(
					new NodeOperationError(this.getNode(), `Subscription renewal could not run: ${(error as Error).message}`),
				);
			}
		} finally {
			running = false;
		}
	};
	// Call Records: every 15 minutes, after the renewal, a sweep for records whose notification never came.
	const sweepIfDue = missedCallRecordSweep(this, Date.now());
	// Returns its promise so a caller that awaits ticks (tests) can; n8n ignores the value.
	const onTick = async (): Promise<void> => {
		await renew();
		await sweepIfDue();
	};
	this.helpers.registerCron({ expression: RENEWAL_TICK }, onTick);

	return {
		closeFunction: async () => {
			detachFailedExecutions();
			for (const key of keys) rememberState(key, undefined);
		},
	};
}
