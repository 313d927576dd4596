import type { IDataObject } from 'n8n-workflow';

import { identityOf, notificationIdentity } from '../delivery/deliveryIdentity';
import type { MeetingCallEvent, MeetingParticipant } from './meetingCallEvent';

const asData = (participants: MeetingParticipant[]): IDataObject[] => participants.map((participant) => ({ ...participant }));

/**
 * One workflow item per meeting call event, in the shape the sources share where the meaning is the same.
 * `callId` is null unless the payload names one; `data` is the event with every field Graph sent.
 */
export function meetingCallEventItem(
	notification: Record<string, unknown>,
	payload: IDataObject,
	event: MeetingCallEvent,
	joinWebUrl: string,
	receivedAt: string,
	includeRaw: boolean,
): IDataObject {
	const item: IDataObject = {
		event: event.event,
		source: 'meetingCallEvents',
		callId: typeof payload.callId === 'string' ? payload.callId : null,
		joinWebUrl,
		startDateTime: event.event === 'callStarted' ? event.eventDateTime : null,
		endDateTime: event.event === 'callEnded' ? event.eventDateTime : null,
		participants: event.event === 'rosterUpdated' ? { joined: asData(event.joined), left: asData(event.left) } : null,
		eventDateTime: event.eventDateTime,
		receivedAt,
		subscriptionId: notification.subscriptionId as string,
		tenantId: typeof notification.tenantId === 'string' ? notification.tenantId : null,
		changeType: typeof notification.changeType === 'string' ? notification.changeType : null,
		data: payload,
	};
	if (event.event === 'unknown') item.originalEventType = (event.originalEventType ?? null) as string | null;
	if (includeRaw) {
		// Without its clientState: that value authenticates Graph and stays secret.
		const raw = { ...notification };
		delete raw.clientState;
		item.rawNotification = raw as IDataObject;
	}
	return item;
}

/**
 * What makes two deliveries one meeting event: the delivery itself (Graph's notification ID, or the sealed
 * content a redelivery repeats), the event's own ID, and the meeting with the event's kind and time (the same
 * event under a new notification). A roster update keeps who joined and left in its identity, so two changes
 * in the same second stay two events. With none of these there is none: a second run beats a lost event.
 */
export function meetingEventKeys(notification: Record<string, unknown>, event: MeetingCallEvent, meetingKey: string): string[] {
	const keys: string[] = [];
	const delivery = notificationIdentity(notification);
	if (delivery) keys.push(delivery);
	if (event.eventId) keys.push(identityOf(['meetingEvent', meetingKey, event.eventId]));
	if (event.eventDateTime && event.event !== 'unknown') {
		const roster = event.event === 'rosterUpdated' ? [event.joined.map((p) => p.participantId ?? p.id), event.left.map((p) => p.participantId ?? p.id)] : [];
		keys.push(identityOf(['meetingEventAt', meetingKey, event.event, event.eventDateTime, roster]));
	}
	return keys;
}
