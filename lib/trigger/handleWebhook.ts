import type { IDataObject, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { meetingNotifications } from '../meetings/meetingNotifications';
import { authenticateNotifications, type AuthenticatedItem } from '../notifications/authenticateNotifications';
import { MalformedBatchError, MAX_ITEMS_PER_REQUEST, parseNotificationBatch } from '../notifications/notificationBatch';
import { currentState, liveStateKey, rememberState } from '../subscriptions/liveSubscriptionStates';
import { withLock } from '../subscriptions/lock';
import {
	readSubscriptionState,
	writeSubscriptionState,
	type SubscriptionState,
} from '../subscriptions/subscriptionState';
import { decryptCallEvents } from './decryptCallEvents';
import { handleLifecycleEvents } from './handleLifecycleEvents';
import { readNotifiedCallRecords } from './readNotifiedCallRecords';
import { stashTestItems } from './manualHandoff';
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
		// n8n saves this only when the request starts no execution, which is the lifecycle URL's case.
		writeSubscriptionState(context.getWorkflowStaticData('node'), outcome.state);
		rememberState(triggerKey, outcome.state);
	}
	return outcome.missedItems;
}

/**
 * Graph's side of the conversation: the validation handshake, then batches of notifications. Before the
 * answer come only the cheap checks: shape, clientState, and the validation tokens against signing keys
 * held in memory (a batch that cannot be verified yet is answered 503, so that Graph delivers it again).
 * Any Graph call comes after the 202. Rich notifications are decrypted before it (see below). n8n 2.41 awaits
 * webhook() and only then starts the execution with its workflowData (webhook-helpers executeWebhook);
 * the response already sent through getResponseObject() and noWebhookResponse: true keep it from
 * answering again, so reading call records, however long Graph takes, never delays the answer.
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
	// Meeting call events may come basic (no resource data, so no validation tokens): the clientState is
	// then the proof, as Graph documents for basic notifications. Any rich item needs the tokens.
	const basicMeetingBatch =
		parameters.source === 'meetingCallEvents' &&
		batch.validationTokens.length === 0 &&
		accepted.every(({ item }) => item.encryptedContent === undefined || item.encryptedContent === null);
	if (!parameters.skipValidationTokenCheck && !basicMeetingBatch) {
		const verdict = await verifyBatchOrigin(this, batch.validationTokens, accepted, state?.app ?? saved.app);
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
	const changeItems = accepted.filter(({ item }) => typeof item.lifecycleEvent !== 'string');
	// Reading call records and handling lifecycle events call Graph, which may take longer than Graph
	// waits for the answer: those are answered first. Decrypting is quick, so for rich notifications n8n
	// answers, once it has started (in queue mode: queued) the execution, and a process that dies before
	// then leaves Graph without a 2xx, so Graph delivers the batch again.
	const answeredFirst = parameters.source === 'callRecords' || lifecycleItems.length > 0;
	if (answeredFirst) response.status(202).end();
	const output: IDataObject[] = [];
	if (changeItems.length > 0 && parameters.source === 'meetingCallEvents') {
		output.push(...(await meetingNotifications(this, changeItems, parameters, triggerKey, receivedAt)));
	} else if (changeItems.length > 0 && parameters.source === 'callRecords') {
		output.push(...(await readNotifiedCallRecords(this, changeItems, parameters, triggerKey, receivedAt)));
	} else if (changeItems.length > 0) {
		output.push(...(await decryptCallEvents(this, changeItems, parameters, triggerKey, receivedAt)));
	}
	if (lifecycleItems.length > 0) {
		const missed = await applyLifecycleEvents(this, triggerKey, saved, lifecycleItems, receivedAt);
		if (parameters.emitMissedNotifications) output.push(...missed);
	}

	if (output.length === 0) {
		if (!answeredFirst) response.status(202).end();
		return NO_RESPONSE;
	}
	const items: INodeExecutionData[] = output.map((json) => ({ json }));
	if (this.getMode() === 'manual') stashTestItems(this, items);
	// Without noWebhookResponse, n8n answers with the webhook's responseCode (202, no body) after it has
	// started the execution.
	return answeredFirst ? { noWebhookResponse: true, workflowData: [items] } : { workflowData: [items] };
}
