import type { IDataObject, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { admittedNotificationItem } from '../delivery/admittedDelivery';
import { authenticateNotifications, type AuthenticatedItem } from '../notifications/authenticateNotifications';
import { logUnknownChangeTypes } from '../notifications/changeTypes';
import { MalformedBatchError, MAX_ITEMS_PER_REQUEST, parseNotificationBatch } from '../notifications/notificationBatch';
import { currentState, liveStateKey, rememberState } from '../subscriptions/liveSubscriptionStates';
import { withLock } from '../subscriptions/lock';
import { appsOfSlot, distinctApps } from '../subscriptions/subscriptionApps';
import {
	readSubscriptionState,
	writeSubscriptionState,
	type SubscriptionState,
} from '../subscriptions/subscriptionState';
import { handleLifecycleEvents } from './handleLifecycleEvents';
import { subscriptionDepsFor } from './subscriptionDepsFor';
import { readTriggerParameters } from './triggerParameters';
import { verifyBatchOrigin } from './verifyBatchOrigin';

const NO_RESPONSE: IWebhookResponseData = { noWebhookResponse: true };
async function applyLifecycleEvents(
	context: IWebhookFunctions,
	triggerKey: string,
	saved: SubscriptionState,
	lifecycleItems: AuthenticatedItem[],
	receivedAt: string,
): Promise<IDataObject[]> {
	const outcome = await withLock(triggerKey, () => {
		const state = currentState(triggerKey, saved) ?? saved;
		return handleLifecycleEvents(
			context,
			() => subscriptionDepsFor(context, state.apiVersion),
			state,
			lifecycleItems,
			receivedAt,
		);
	});
	if (outcome.changed) {
		// n8n 2.41.1 saves a request's static data in its response callback. It calls that callback before
		// starting the execution when webhook() answered itself (noWebhookResponse, as here, even with missed
		// items to run) and after it when n8n answers, by when the change is no longer marked and is lost
		// (test/support/n8nTriggerHarness.ts). So a request that changes the state always answers itself.
		// Lost anyway, the next renewal finds the subscription by its clientState (ensureSubscription).
		writeSubscriptionState(context.getWorkflowStaticData('node'), outcome.state);
		rememberState(triggerKey, outcome.state);
	}
	return outcome.missedItems;
}

/**
 * Graph's side of the conversation, the first of two phases: the validation handshake, then batches of
 * notifications, admitted with cheap checks only (shape, clientState, and the validation tokens against
 * signing keys held in memory; a batch that cannot be verified yet is answered 503, so that Graph delivers it
 * again). The admitted notifications go to the execution as they came, still sealed, and n8n answers 202 only
 * once that execution is stored (in queue mode: queued), so a notification is acknowledged only when it cannot
 * be lost. Decrypting, reading call records and deciding what already ran happen in execute()
 * (executeDeliveries). Lifecycle events are answered first: their work calls Graph.
 */
export async function handleWebhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const request = this.getRequestObject();
	const response = this.getResponseObject();
	const validationToken = request.query.validationToken;
	if (typeof validationToken === 'string') {
		// Express has already URL-decoded it; plain text so nothing in it is ever interpreted as HTML.
		response.status(200).type('text/plain').send(validationToken);
		return NO_RESPONSE;
	}

	const saved = readSubscriptionState(this.getWorkflowStaticData('node'));
	const triggerKey = liveStateKey(this.getWorkflow().id ?? '', this.getNode().name, saved?.notificationUrl ?? '');
	const state = currentState(triggerKey, saved);

	let batch;
	try {
		batch = parseNotificationBatch(this.getBodyData());
	} catch (error) {
		if (!(error instanceof MalformedBatchError)) throw error;
		response.status(400).json({ error: error.message });
		return NO_RESPONSE;
	}
	const accepted = state ? authenticateNotifications(batch.items, state.slots).accepted : [];
	if (!saved || accepted.length === 0) {
		response.status(401).json({ error: 'No notification in this request belongs to an active subscription of this trigger' });
		return NO_RESPONSE;
	}

	const parameters = readTriggerParameters(this);
	// Meeting subscriptions are made with resource data, so Graph signs their notifications: a basic one
	// (no tokens) is not from those subscriptions and proves nothing beyond a clientState, so it is refused.
	if (!parameters.skipValidationTokenCheck) {
		// Per slot, not per item: a batch holds up to 1,000 items of a few subscriptions.
		const now = new Date();
		const apps = state ? distinctApps([...new Set(accepted.map(({ slot }) => slot))].flatMap((slot) => appsOfSlot(slot, state, now))) : [];
		const verdict = await verifyBatchOrigin(this, batch.validationTokens, accepted, apps);
		if (!verdict.valid && verdict.retryable) {
			this.logger.warn(`Answered 503 to a notification batch so that Microsoft Graph delivers it again: ${verdict.reason}`);
			response.status(503).json({ error: 'The notifications cannot be verified yet; deliver them again later' });
			return NO_RESPONSE;
		}
		if (!verdict.valid) {
			response.status(202).end();
			this.logger.warn(`Ignored a notification batch that could not be proven to come from Microsoft Graph: ${verdict.reason}`);
			return NO_RESPONSE;
		}
	}
	if (batch.beyondCapCount > 0) {
		this.logger.warn(`Ignored ${batch.beyondCapCount} notifications past the first ${MAX_ITEMS_PER_REQUEST} of one request`);
	}

	const receivedAt = new Date().toISOString();
	const lifecycleItems = accepted.filter(({ item }) => typeof item.lifecycleEvent === 'string');
	const changes = accepted.filter(({ item }) => typeof item.lifecycleEvent !== 'string');
	logUnknownChangeTypes(changes.map(({ item }) => item), this.logger);
	const output: IDataObject[] = changes.map(({ item, slot }) => admittedNotificationItem(item, slot, receivedAt));
	// Handling lifecycle events calls Graph, which may take longer than Graph waits for the answer.
	const answeredFirst = lifecycleItems.length > 0;
	if (answeredFirst) {
		response.status(202).end();
		const missed = await applyLifecycleEvents(this, triggerKey, saved, lifecycleItems, receivedAt);
		if (parameters.emitMissedNotifications) output.push(...missed);
	}

	if (output.length === 0) {
		if (!answeredFirst) response.status(202).end();
		return NO_RESPONSE;
	}
	const items: INodeExecutionData[] = output.map((json) => ({ json }));
	// Without noWebhookResponse, n8n answers with the webhook's responseCode (202, no body) once it has
	// stored (queued) the execution; when that fails, it answers an error and Graph delivers again.
	return answeredFirst ? { noWebhookResponse: true, workflowData: [items] } : { workflowData: [items] };
}
