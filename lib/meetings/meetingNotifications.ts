import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import { decryptEncryptedContents, type DecryptOutcome } from '../crypto/decryptEncryptedContents';
import { sharedKeyUnwrapPool } from '../crypto/sharedKeyUnwrapPool';
import { TimeSlicer } from '../eventLoop/timeSlicer';
import { aboutMeeting, type AuthenticatedItem } from '../notifications/authenticateNotifications';
import { recentCallEventsFor } from '../notifications/recentCallEvents';
import { notificationCertificateFor } from '../trigger/notificationCertificateFor';
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
	const dropped = new Map<string, number>();
	let firstDrop = '';
	const drop = (code: string, detail: string) => {
		dropped.set(code, (dropped.get(code) ?? 0) + 1);
		firstDrop ||= detail;
	};

	const rich = accepted.filter(({ item }) => item.encryptedContent !== undefined && item.encryptedContent !== null);
	const opened = new Map<AuthenticatedItem, DecryptOutcome>();
	if (rich.length > 0) {
		const certificateIds = new Set(
			rich.flatMap(({ item }) => {
				const id = (item.encryptedContent as { encryptionCertificateId?: unknown }).encryptionCertificateId;
				return typeof id === 'string' ? [id] : [];
			}),
		);
		const certificate = await notificationCertificateFor(context, certificateIds);
		const outcomes = await decryptEncryptedContents(
			rich.map(({ item }) => item.encryptedContent),
			certificate.keyRing,
			{ pool: sharedKeyUnwrapPool() },
		);
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
			drop('OTHER_MEETING', `${slot.user}: the notification names another resource`);
			continue;
		}
		const outcome = opened.get(entry);
		if (outcome && 'error' in outcome) {
			drop(outcome.error.code, `${slot.user}, subscription ${String(item.subscriptionId).slice(0, 64)}: ${outcome.error.message}`);
			continue;
		}
		const payload: unknown = outcome ? outcome.resource : item.resourceData;
		if (!isObject(payload)) {
			drop('NOT_AN_OBJECT', `${slot.user}: the event is not an object`);
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
	if (dropped.size > 0) {
		const counts = [...dropped].map(([code, count]) => `${code}: ${count}`).join(', ');
		const total = [...dropped.values()].reduce((sum, count) => sum + count, 0);
		// One line per batch, however many items were bad: a hostile batch must not flood the log.
		context.logger.warn(`Dropped ${total} of ${accepted.length} meeting call notifications (${counts}); first: ${firstDrop}`);
	}
	return items;
}
