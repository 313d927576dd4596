import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import type { DecryptOutcome } from '../crypto/decryptEncryptedContents';
import { TimeSlicer } from '../eventLoop/timeSlicer';
import { aboutMeeting, type AuthenticatedItem } from '../notifications/authenticateNotifications';
import { DropTally } from '../notifications/dropTally';
import { recentCallEventsFor } from '../notifications/recentCallEvents';
import { openNotifications } from '../trigger/openNotifications';
import type { TriggerParameters } from '../trigger/triggerParameters';
import { readMeetingCallEvent } from './meetingCallEvent';
import { meetingCallEventItem, meetingEventKeys } from './meetingCallEventItem';

const isObject = (value: unknown): value is IDataObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Authenticated meeting notifications → items. Rich ones (encryptedContent) are decrypted with the
 * certificate credential, basic ones carry the event in resourceData. Either way the notification must
 * name the meeting of its subscription's slot: an item matched by its subscription ID is not otherwise
 * checked for that. Items dropped are summed up in one log line per batch.
 */
export async function meetingNotifications(
	context: IWebhookFunctions,
	accepted: AuthenticatedItem[],
	parameters: TriggerParameters,
	triggerKey: string,
	receivedAt: string,
): Promise<IDataObject[]> {
	const dropped = new DropTally();

	const rich = accepted.filter(({ item }) => item.encryptedContent !== undefined && item.encryptedContent !== null);
	const opened = new Map<AuthenticatedItem, DecryptOutcome>();
	if (rich.length > 0) {
		const outcomes = await openNotifications(context, rich.map(({ item }) => item));
		rich.forEach((entry, index) => opened.set(entry, outcomes[index]!));
	}

	const recent = recentCallEventsFor(triggerKey);
	const items: IDataObject[] = [];
	const slicer = new TimeSlicer();
	for (const entry of accepted) {
		if (slicer.due) await slicer.yield();
		const { item, slot } = entry;
		if (slot.target?.kind !== 'meeting') continue;
		const joinUrl = slot.target.joinUrl;
		if (!aboutMeeting(item, joinUrl)) {
			dropped.drop('OTHER_MEETING', `${slot.user}: the notification names another resource`);
			continue;
		}
		const outcome = opened.get(entry);
		if (outcome && 'error' in outcome) {
			dropped.drop(outcome.error.code, `${slot.user}, subscription ${String(item.subscriptionId).slice(0, 64)}: ${outcome.error.message}`);
			continue;
		}
		const payload: unknown = outcome ? outcome.resource : item.resourceData;
		if (!isObject(payload)) {
			dropped.drop('NOT_AN_OBJECT', `${slot.user}: the event is not an object`);
			continue;
		}
		const event = readMeetingCallEvent(payload);
		const keys = meetingEventKeys(item, event, slot.userId);
		if (keys.length > 0 && !recent.firstSighting(keys)) {
			context.logger.debug(`Skipped a redelivered ${event.event} for ${slot.user}`);
			continue;
		}
		if (event.event !== 'unknown' && !parameters.meetingEvents.includes(event.event)) continue;
		items.push(meetingCallEventItem(item, payload, event, joinUrl, receivedAt, parameters.includeRawNotification));
	}
	dropped.warn(context.logger, accepted.length, 'meeting call notifications');
	return items;
}
