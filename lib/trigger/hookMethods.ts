import { NodeOperationError, type IHookFunctions } from 'n8n-workflow';

import { createSubscriptions } from '../subscriptions/createSubscriptions';
import { deleteSubscriptions } from '../subscriptions/deleteSubscriptions';
import { ensureSubscription } from '../subscriptions/ensureSubscription';
import { explainSubscriptionError } from '../subscriptions/explainSubscriptionError';
import { currentState, liveStateKey, rememberState } from '../subscriptions/liveSubscriptionStates';
import { withLock } from '../subscriptions/lock';
import { settingsKey } from '../subscriptions/subscriptionSettings';
import {
	readSubscriptionState,
	writeSubscriptionState,
	type SubscriptionState,
} from '../subscriptions/subscriptionState';
import { prepareNotificationVerifier } from './prepareNotificationVerifier';
import { subscriptionDepsFor } from './subscriptionDepsFor';
import { readTriggerParameters } from './triggerParameters';
import { webhookUrlsOf } from './webhookUrls';

function asNodeError(context: IHookFunctions, error: unknown): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	return new NodeOperationError(context.getNode(), (error as Error).message);
}

function stateKey(context: IHookFunctions, notificationUrl: string): string {
	return liveStateKey(context.getWorkflow().id ?? '', context.getNode().name, notificationUrl);
}

function save(context: IHookFunctions, key: string, state: SubscriptionState | undefined): void {
	writeSubscriptionState(context.getWorkflowStaticData('node'), state);
	rememberState(key, state);
}

/**
 * true only when every watched user has a live subscription of ours at this URL. It runs at every
 * activation and, because the node also has a timer, at every n8n start: so it also brings back
 * subscriptions that expired while n8n was down, and renews those close to expiry.
 */
export async function checkSubscriptionsExist(this: IHookFunctions): Promise<boolean> {
	try {
		const parameters = readTriggerParameters(this);
		const urls = webhookUrlsOf(this);
		const saved = readSubscriptionState(this.getWorkflowStaticData('node'));
		if (
			!saved ||
			saved.notificationUrl !== urls.notificationUrl ||
			saved.lifecycleUrl !== urls.lifecycleUrl ||
			saved.settingsKey !== settingsKey(parameters.subscription)
		) {
			return false;
		}
		const key = stateKey(this, urls.notificationUrl);
		const deps = await subscriptionDepsFor(this, saved.apiVersion, { freshCertificate: true });
		await withLock(key, async () => {
			const state = { ...(currentState(key, saved) ?? saved) };
			state.lifetimeMinutes = parameters.subscription.lifetimeMinutes;
			const slots = [];
			for (const slot of state.slots) {
				try {
					slots.push(await ensureSubscription(deps, state, slot, 'verify'));
				} catch (error) {
					throw new NodeOperationError(this.getNode(), explainSubscriptionError(error, slot.user, urls.notificationUrl));
				}
			}
			save(this, key, { ...state, app: state.app ?? deps.app, slots });
		});
		await prepareNotificationVerifier(this, saved.app ?? deps.app);
		return true;
	} catch (error) {
		throw asNodeError(this, error);
	}
}

export async function createSubscriptionsHook(this: IHookFunctions): Promise<boolean> {
	try {
		const parameters = readTriggerParameters(this);
		const urls = webhookUrlsOf(this);
		const key = stateKey(this, urls.notificationUrl);
		const deps = await subscriptionDepsFor(this, parameters.subscription.apiVersion, {
			freshCertificate: true,
		});
		await withLock(key, async () => {
			const previous = readSubscriptionState(this.getWorkflowStaticData('node'));
			const state = await createSubscriptions(deps, parameters.subscription, urls, previous);
			save(this, key, state);
		});
		await prepareNotificationVerifier(this, deps.app);
		return true;
	} catch (error) {
		throw asNodeError(this, error);
	}
}

export async function deleteSubscriptionsHook(this: IHookFunctions): Promise<boolean> {
	const staticData = this.getWorkflowStaticData('node');
	const saved = readSubscriptionState(staticData);
	const notificationUrl = saved?.notificationUrl ?? this.getNodeWebhookUrl('default') ?? '';
	const key = stateKey(this, notificationUrl);
	try {
		const deps = await subscriptionDepsFor(this, saved?.apiVersion ?? 'beta');
		await withLock(key, () =>
			deleteSubscriptions(deps, currentState(key, saved), {
				notificationUrl,
				lifecycleUrl: saved?.lifecycleUrl ?? this.getNodeWebhookUrl('setup') ?? '',
			}),
		);
	} catch (error) {
		// Without credentials nothing can be deleted; the subscriptions expire on their own.
		this.logger.warn(`Could not delete the Microsoft Teams call subscriptions: ${(error as Error).message}`);
	}
	save(this, key, undefined);
	return true;
}
