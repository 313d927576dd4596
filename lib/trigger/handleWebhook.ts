import type { IDataObject, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { readNotificationCertificate } from '../credentials/notificationCertificate';
import { decryptEncryptedContent } from '../crypto/decryptEncryptedContent';
import { NotificationDecryptionError } from '../crypto/errors';
import { authenticateNotifications, type AuthenticatedItem } from '../notifications/authenticateNotifications';
import { callEventItem } from '../notifications/callEventItem';
import { MalformedBatchError, parseNotificationBatch } from '../notifications/notificationBatch';
import { currentState, liveStateKey, rememberState } from '../subscriptions/liveSubscriptionStates';
import { withLock } from '../subscriptions/lock';
import { readSubscriptionState, writeSubscriptionState } from '../subscriptions/subscriptionState';
import { NOTIFICATION_CERTIFICATE_CREDENTIAL } from './credentialNames';
import { handleLifecycleEvents } from './handleLifecycleEvents';
import { stashTestItems } from './manualHandoff';
import { subscriptionDepsFor } from './subscriptionDepsFor';
import { readTriggerParameters, type TriggerParameters } from './triggerParameters';

const NO_RESPONSE: IWebhookResponseData = { noWebhookResponse: true };

function decryptCallEvents(
	context: IWebhookFunctions,
	accepted: AuthenticatedItem[],
	certificateData: Parameters<typeof readNotificationCertificate>[0],
	parameters: TriggerParameters,
	receivedAt: string,
): IDataObject[] {
	const certificate = readNotificationCertificate(certificateData);
	const items: IDataObject[] = [];
	for (const { item, slot } of accepted) {
		let resource: unknown;
		try {
			resource = decryptEncryptedContent(item.encryptedContent, certificate.keyRing);
		} catch (error) {
			if (!(error instanceof NotificationDecryptionError)) throw error;
			context.logger.warn(
				`Dropped a call notification for ${slot.user} (subscription ${String(item.subscriptionId)}): ${error.code}: ${error.message}`,
			);
			continue;
		}
		if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
			context.logger.warn(`Dropped a call notification for ${slot.user}: the decrypted resource is not an object`);
			continue;
		}
		const output = callEventItem(item, resource as IDataObject, slot, receivedAt, parameters.includeRawNotification);
		const eventWanted = output.event === 'unknown' || parameters.events.includes(output.event as never);
		const directionWanted =
			output.direction === 'unknown' || parameters.directions.includes(output.direction as never);
		if (eventWanted && directionWanted) items.push(output);
	}
	return items;
}

/**
 * Graph's side of the conversation: the validation handshake, then batches of notifications. Cheap
 * checks come first and the 202 goes out before any decryption or Graph call, inside Graph's 3 s.
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

	const staticData = this.getWorkflowStaticData('node');
	const saved = readSubscriptionState(staticData);
	const key = liveStateKey(this.getWorkflow().id ?? '', this.getNode().name, saved?.notificationUrl ?? '');
	const state = currentState(key, saved);

	let accepted: AuthenticatedItem[] = [];
	try {
		const batch = parseNotificationBatch(this.getBodyData());
		accepted = state ? authenticateNotifications(batch.items, state.slots).accepted : [];
	} catch (error) {
		if (!(error instanceof MalformedBatchError)) throw error;
		response.status(400).json({ error: error.message });
		return NO_RESPONSE;
	}
	if (accepted.length === 0) {
		response.status(401).json({ error: 'No notification in this request belongs to an active subscription of this trigger' });
		return NO_RESPONSE;
	}
	response.status(202).end();

	const receivedAt = new Date().toISOString();
	const parameters = readTriggerParameters(this);
	const lifecycleItems = accepted.filter(({ item }) => typeof item.lifecycleEvent === 'string');
	const changeItems = accepted.filter(({ item }) => typeof item.lifecycleEvent !== 'string');
	const output: IDataObject[] = [];

	if (changeItems.length > 0) {
		const certificateData = await this.getCredentials(NOTIFICATION_CERTIFICATE_CREDENTIAL);
		output.push(...decryptCallEvents(this, changeItems, certificateData, parameters, receivedAt));
	}
	if (lifecycleItems.length > 0 && state) {
		const outcome = await withLock(key, () =>
			handleLifecycleEvents(
				this,
				() => subscriptionDepsFor(this, state.apiVersion),
				currentState(key, saved) ?? state,
				lifecycleItems,
				receivedAt,
			),
		);
		if (outcome.changed) {
			// Saved by n8n only when this request starts no execution, which is the lifecycle URL's case.
			writeSubscriptionState(staticData, outcome.state);
			rememberState(key, outcome.state);
		}
		if (parameters.emitMissedNotifications) output.push(...outcome.missedItems);
	}

	if (output.length === 0) return NO_RESPONSE;
	const items: INodeExecutionData[] = output.map((json) => ({ json }));
	if (this.getMode() === 'manual') stashTestItems(this, items);
	return { noWebhookResponse: true, workflowData: [items] };
}
