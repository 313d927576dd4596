import type { IDataObject } from 'n8n-workflow';

export type CallRecordItemEvent = 'callEnded' | 'callRecordUpdated';

/**
 * How the trigger learned of the record: Graph's notification, or the sweep of recent records that
 * recovers a record whose notification never came (lib/callRecords/findMissedCallRecords.ts). A swept
 * record has no notification behind it: no subscription, change type or raw notification.
 */
export type CallRecordOrigin =
	| { detectedBy: 'notification'; notification: Record<string, unknown> }
	| { detectedBy: 'sweep'; tenantId: string | null };

export interface CallParticipant extends IDataObject {
	id: string | null;
	displayName: string | null;
	/** Which identity Graph gave: user, guest, phone, application, … */
	kind: string | null;
	tenantId: string | null;
	userPrincipalName: string | null;
}

/** An identitySet ({ user: {...} } or { phone: {...} }, …) as one flat participant. */
function participantOf(identitySet: unknown): CallParticipant | undefined {
	if (typeof identitySet !== 'object' || identitySet === null) return undefined;
	for (const [kind, identity] of Object.entries(identitySet as IDataObject)) {
		if (kind.startsWith('@') || typeof identity !== 'object' || identity === null) continue;
		const value = identity as IDataObject;
		return {
			id: typeof value.id === 'string' ? value.id : null,
			displayName: typeof value.displayName === 'string' ? value.displayName : null,
			kind,
			tenantId: typeof value.tenantId === 'string' ? value.tenantId : null,
			userPrincipalName: typeof value.userPrincipalName === 'string' ? value.userPrincipalName : null,
		};
	}
	return undefined;
}

/** participants_v2 entities ({ id, identity }) when Graph sent them, else the older participants list. */
function participantsOf(record: IDataObject): CallParticipant[] {
	const entities = Array.isArray(record.participants_v2) ? (record.participants_v2 as IDataObject[]) : undefined;
	const identitySets = entities ? entities.map((entity) => entity.identity) : Array.isArray(record.participants) ? record.participants : [];
	return identitySets.flatMap((identitySet) => participantOf(identitySet) ?? []);
}

function organizerOf(record: IDataObject): CallParticipant | null {
	const v2 = record.organizer_v2 as IDataObject | null | undefined;
	return participantOf(v2?.identity) ?? participantOf(record.organizer) ?? null;
}

function text(value: unknown): string | null {
	return typeof value === 'string' ? value : null;
}

/** Seconds between start and end, or null when Graph gave no usable times. */
function durationSeconds(start: unknown, end: unknown): number | null {
	const from = typeof start === 'string' ? Date.parse(start) : NaN;
	const to = typeof end === 'string' ? Date.parse(end) : NaN;
	return Number.isNaN(from) || Number.isNaN(to) ? null : Math.max(0, Math.round((to - from) / 1000));
}

/**
 * One workflow item per call record, in the shape items of every source share where the meaning is the
 * same (event, source, callId, start, end, participants, receivedAt, subscriptionId, tenantId), plus what a
 * record adds. `data` is the record exactly as Graph returned it.
 */
export function callRecordItem(
	origin: CallRecordOrigin,
	record: IDataObject,
	event: CallRecordItemEvent,
	receivedAt: string,
	includeRaw: boolean,
): IDataObject {
	const notification = origin.detectedBy === 'notification' ? origin.notification : undefined;
	const item: IDataObject = {
		event,
		source: 'callRecords',
		callId: text(record.id),
		startDateTime: text(record.startDateTime),
		endDateTime: text(record.endDateTime),
		participants: participantsOf(record),
		receivedAt,
		subscriptionId: notification ? text(notification.subscriptionId) : null,
		tenantId: origin.detectedBy === 'notification' ? text(origin.notification.tenantId) : origin.tenantId,
		type: text(record.type),
		modalities: Array.isArray(record.modalities) ? (record.modalities as string[]) : [],
		duration: durationSeconds(record.startDateTime, record.endDateTime),
		organizer: organizerOf(record),
		joinWebUrl: text(record.joinWebUrl),
		version: typeof record.version === 'number' ? record.version : null,
		changeType: notification ? text(notification.changeType) : null,
		detectedBy: origin.detectedBy,
		data: record,
	};
	if (includeRaw) {
		// Without its clientState: that value authenticates Graph and stays secret.
		const raw = notification ? { ...notification } : null;
		delete raw?.clientState;
		item.rawNotification = raw as IDataObject | null;
	}
	return item;
}
