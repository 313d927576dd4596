import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { admittedNotifications, type AdmittedNotification, type Delivery } from '../../delivery/admittedDelivery';
import type { TriggerRuntime } from '../../delivery/triggerRuntime';
import type { DecryptOutcome } from '../../crypto/decryptEncryptedContents';
import { TimeSlicer } from '../../eventLoop/timeSlicer';
import { readMeetingCallEvent } from '../../meetings/meetingCallEvent';
import { meetingCallEventItem, meetingEventKeys } from '../../meetings/meetingCallEventItem';
import { aboutMeeting } from '../../notifications/authenticateNotifications';
import { DropTally } from '../../notifications/dropTally';
import { openNotifications } from '../../trigger/openNotifications';
import type { TriggerParameters } from '../../trigger/triggerParameters';
import type { DeliverySource } from '../deliverySource';

const isObject = (value: unknown): value is IDataObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Meeting call events: rich notifications (encryptedContent) decrypted with the certificate credential,
 * basic ones read from resourceData. Either way the notification must name the meeting of its subscription's
 * slot: an item matched by its subscription ID is not otherwise checked for that. Events the parameters ask
 * for are kept when n8n's store has not seen them.
 */
async function openMeetingCallEvents(
	context: IExecuteFunctions,
	deliveries: Delivery[],
	parameters: TriggerParameters,
	runtime: TriggerRuntime,
): Promise<IDataObject[]> {
	const admitted = admittedNotifications(deliveries);
	const dropped = new DropTally();
	const rich = admitted.filter(({ notification }) => notification.encryptedContent !== undefined && notification.encryptedContent !== null);
	const opened = new Map<AdmittedNotification, DecryptOutcome>();
	if (rich.length > 0) {
		const outcomes = await openNotifications(context, rich.map(({ notification }) => notification));
		rich.forEach((entry, index) => opened.set(entry, outcomes[index]!));
	}

	const wanted: Array<{ item: IDataObject; identities: string[] }> = [];
	const slicer = new TimeSlicer();
	for (const entry of admitted) {
		if (slicer.due) await slicer.yield();
		const { notification, watched, receivedAt } = entry;
		if (watched.target?.kind !== 'meeting') continue;
		const joinUrl = watched.target.joinUrl;
		if (!aboutMeeting(notification, joinUrl)) {
			dropped.drop('OTHER_MEETING', `${watched.user}: the notification names another resource`);
			continue;
		}
		const outcome = opened.get(entry);
		if (outcome && 'error' in outcome) {
			dropped.drop(outcome.error.code, `${watched.user}, subscription ${String(notification.subscriptionId).slice(0, 64)}: ${outcome.error.message}`);
			continue;
		}
		const payload: unknown = outcome ? outcome.resource : notification.resourceData;
		if (!isObject(payload)) {
			dropped.drop('NOT_AN_OBJECT', `${watched.user}: the event is not an object`);
			continue;
		}
		const event = readMeetingCallEvent(payload);
		if (event.event !== 'unknown' && !parameters.meetingEvents.includes(event.event)) continue;
		const identities = meetingEventKeys(notification, event, watched.userId);
		wanted.push({ item: meetingCallEventItem(notification, payload, event, joinUrl, receivedAt, parameters.includeRawNotification), identities });
	}
	dropped.warn(context.logger, admitted.length, 'meeting call notifications');
	return runtime.processed.keepFirstSightings(context, wanted);
}

export const meetingCallEventsSource: DeliverySource = { work: openMeetingCallEvents };
