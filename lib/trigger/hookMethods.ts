import { NodeOperationError, type IHookFunctions } from 'n8n-workflow';

import { mapWithConcurrency } from '../concurrency/mapWithConcurrency';
import {
	ActivationRefusedError,
	refusalFor,
	userFailure,
	type UserFailure,
} from '../subscriptions/activationVerdict';
import { ACTIVATION_CONCURRENCY, createSubscriptions } from '../subscriptions/createSubscriptions';
import { deleteSubscriptions } from '../subscriptions/deleteSubscriptions';
import { ensureSubscription, SubscriptionLostError } from '../subscriptions/ensureSubscription';
import {
	currentState,
	endActivation,
	liveStateKey,
	rememberState,
} from '../subscriptions/liveSubscriptionStates';
import { withLock } from '../subscriptions/lock';
import { SubscriptionConflictError } from '../subscriptions/postSubscription';
import { withOwnApps } from '../subscriptions/subscriptionApps';
import type { WebhookUrls } from '../subscriptions/subscriptionDeps';
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

/**
 * Graph's shortest lifetime: it raises any expiry under 45 minutes to 45. "Listen for test event" has no
 * timer, so an n8n that dies while listening leaves a subscription that ends within the hour.
 */
export const TEST_SUBSCRIPTION_MINUTES = 45;

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

/** Names the workflow and node, so an admin can find an activation problem in n8n's log. */
function where(context: IHookFunctions): string {
	const workflow = context.getWorkflow();
	return `workflow "${workflow.name ?? ''}" (${workflow.id ?? ''}), node "${context.getNode().name}"`;
}

/**
 * Graph gets one URL for notifications and lifecycle events (the handler tells them apart). The second
 * webhook ("setup") stays registered for subscriptions made before, which name it as lifecycle URL.
 */
function activationUrls(context: IHookFunctions): WebhookUrls & { legacyLifecycleUrl: string } {
	const { notificationUrl, lifecycleUrl } = webhookUrlsOf(context);
	return { notificationUrl, lifecycleUrl: notificationUrl, legacyLifecycleUrl: lifecycleUrl };
}

function warnAboutUsers(context: IHookFunctions, failures: UserFailure[]): void {
	for (const failure of failures) {
		context.logger.warn(
			`Microsoft Teams Call Trigger in ${where(context)}: while activating, the subscription for ${failure.user} could not be made or checked; the renewal timer retries it. ${failure.message}`,
		);
	}
}

/**
 * true when the saved subscriptions are this node's, for these settings and URLs. It runs at every
 * activation and, because the node also has a timer, at every n8n start: so it also brings back
 * subscriptions that expired while n8n was down, and renews those close to expiry. A user that fails
 * keeps its slot for the timer; only a failure that stops every user refuses (then n8n deletes all).
 */
export async function checkSubscriptionsExist(this: IHookFunctions): Promise<boolean> {
	try {
		const parameters = readTriggerParameters(this);
		const urls = activationUrls(this);
		const saved = readSubscriptionState(this.getWorkflowStaticData('node'));
		if (
			!saved ||
			saved.notificationUrl !== urls.notificationUrl ||
			![urls.notificationUrl, urls.legacyLifecycleUrl].includes(saved.lifecycleUrl) ||
			saved.settingsKey !== settingsKey(parameters.subscription)
		) {
			return false;
		}
		const key = stateKey(this, urls.notificationUrl);
		const deps = await subscriptionDepsFor(this, saved.apiVersion, { freshCertificate: true });
		const failures = await withLock(key, async () => {
			const state = { ...(currentState(key, saved) ?? saved), lifetimeMinutes: parameters.subscription.lifetimeMinutes };
			const outcomes = await mapWithConcurrency(state.slots, ACTIVATION_CONCURRENCY, (slot) =>
				ensureSubscription(deps, state, slot, 'verify'),
			);
			const found: UserFailure[] = [];
			const slots = outcomes.map((outcome, index) => {
				if (outcome.ok) return outcome.value;
				found.push(userFailure(outcome.error, state.slots[index].user, urls.notificationUrl, state.source));
				return outcome.error instanceof SubscriptionLostError ? outcome.error.slot : state.slots[index];
			});
			const working = outcomes.filter((outcome) => outcome.ok).length;
			const refusal = refusalFor(found, working, false);
			if (refusal) throw new ActivationRefusedError(refusal, found);
			// Verified with the credential as it is now: after an edit, the subscriptions are the new app's.
			save(this, key, working > 0 ? { ...state, app: deps.app, slots: withOwnApps(slots, state) } : { ...state, slots });
			return found;
		});
		warnAboutUsers(this, failures);
		await prepareNotificationVerifier(this, deps.app);
		return true;
	} catch (error) {
		this.logger.warn(`Microsoft Teams Call Trigger in ${where(this)}: activation refused: ${(error as Error).message}`);
		throw asNodeError(this, error);
	}
}

export async function createSubscriptionsHook(this: IHookFunctions): Promise<boolean> {
	const testMode = this.getMode() === 'manual';
	try {
		const parameters = readTriggerParameters(this);
		const urls = activationUrls(this);
		const key = stateKey(this, urls.notificationUrl);
		const settings = testMode
			? { ...parameters.subscription, lifetimeMinutes: Math.min(parameters.subscription.lifetimeMinutes, TEST_SUBSCRIPTION_MINUTES) }
			: parameters.subscription;
		const deps = await subscriptionDepsFor(this, settings.apiVersion, { freshCertificate: true });
		const failures = await withLock(key, async () => {
			const previous = readSubscriptionState(this.getWorkflowStaticData('node'));
			const result = await createSubscriptions(deps, settings, urls, previous, { allOrNothing: testMode });
			save(this, key, result.state);
			return result.failures;
		});
		warnAboutUsers(this, failures);
		await prepareNotificationVerifier(this, deps.app);
		return true;
	} catch (error) {
		const refusal = testMode ? heldByThisWorkflow(this, error) ?? error : error;
		this.logger.warn(`Microsoft Teams Call Trigger in ${where(this)}: activation refused: ${(refusal as Error).message}`);
		throw asNodeError(this, refusal);
	}
}

/**
 * Graph allows one subscription per user and app. While the workflow is active, its production
 * subscriptions hold the users, so "listen for test event" cannot have its own: say what to do.
 */
function heldByThisWorkflow(context: IHookFunctions, error: unknown): Error | undefined {
	if (!(error instanceof ActivationRefusedError)) return undefined;
	const ownProductionUrl = `/${context.getNode().webhookId ?? ''}/notify`;
	const held = error.failures.filter(
		(failure) =>
			failure.error instanceof SubscriptionConflictError &&
			failure.error.otherNotificationUrl?.endsWith(ownProductionUrl) === true &&
			!failure.error.otherNotificationUrl.includes('/webhook-test/'),
	);
	if (held.length === 0) return undefined;
	return new Error(
		`This workflow is active, and its production subscription already receives the calls of ${held.map((failure) => failure.user).join(', ')}: Microsoft Graph allows one subscription per user and app. Those calls run the active workflow (see its executions). To listen for a test event, deactivate the workflow first, or test with users it does not watch.`,
	);
}

/**
 * Deactivation, and n8n's cleanup after a refused activation. The activation is marked ended before
 * anything else: a timer tick queued behind this must not renew or recreate what is being deleted.
 */
export async function deleteSubscriptionsHook(this: IHookFunctions): Promise<boolean> {
	const staticData = this.getWorkflowStaticData('node');
	const saved = readSubscriptionState(staticData);
	const notificationUrl = saved?.notificationUrl ?? this.getNodeWebhookUrl('default') ?? '';
	const key = stateKey(this, notificationUrl);
	const live = currentState(key, saved);
	endActivation(key, saved?.activationId);
	try {
		const deps = await subscriptionDepsFor(this, saved?.apiVersion ?? 'beta');
		await withLock(key, () =>
			deleteSubscriptions(deps, live, {
				notificationUrl,
				lifecycleUrl: saved?.lifecycleUrl ?? notificationUrl,
			}),
		);
	} catch (error) {
		// Without credentials nothing can be deleted; the subscriptions expire on their own.
		this.logger.warn(`Could not delete the Microsoft Teams call subscriptions of ${where(this)}: ${(error as Error).message}`);
	}
	save(this, key, undefined);
	return true;
}
