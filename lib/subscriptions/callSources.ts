import { createHash } from 'node:crypto';

/**
 * Sources of call events, and what one subscription "slot" stands for in each.
 *
 * A slot is one Graph subscription the trigger keeps alive: its resource, its clientState, its ID and
 * expiry (lib/subscriptions/subscriptionState.ts, the one saved store). Until there was a second source a
 * slot was "one watched user": `userId` and `user` named the user and `resource` was that user's path.
 * Now a slot is "one target of the trigger's source":
 *
 * - callEvents (the preview, and every workflow saved before sources existed): one slot per user, exactly
 *   as before. The saved state of those workflows has no `source` and no slot `target`; absent means this
 *   source, so their state reads unchanged, and their settings key (which decides whether activation
 *   keeps the saved subscriptions) is computed from the same fields as before.
 * - callRecords: one slot per chunk of a participants filter on `communications/callRecords`, or a single
 *   slot for the whole tenant when no user is listed. The slot's `target` holds the participant IDs of its
 *   chunk; `userId` holds a stable key for the chunk (never empty: empty means "user not looked up yet"
 *   for a user slot), `user` a label for messages. Users are looked up once, at activation, because the
 *   chunks depend on the IDs.
 * - meetingCallEvents (beta): one slot per meeting. The slot's `target` holds the meeting's join URL;
 *   `userId` a stable key for the meeting, `user` a label for messages. Nothing is looked up: the join
 *   URL is the resource's key.
 *
 * Everything that works on slots (create, verify, renew, restore after 404, lifecycle events,
 * authentication by clientState, deletion) stays source-blind, except for three questions answered here:
 * the resource and change type of a subscription, whether its notifications carry resource data (and so
 * need the certificate), and which notification resources belong to a slot.
 */
export type CallSource = 'callEvents' | 'callRecords' | 'meetingCallEvents';

export interface CallRecordsTarget {
	kind: 'callRecords';
	/** Entra object IDs in the chunk's filter, lower case; [] for the whole tenant. */
	participantIds: string[];
	/**
	 * Filter "After Reading": the watched users' IDs, lower case, that a record of the tenant-wide subscription
	 * must have among its participants_v2 to run. Absent when Graph filters (or for the whole tenant).
	 */
	keptParticipantIds?: string[];
}

/** Where the watched users' calls are picked out: in the subscription's filter, or after each record is read. */
export type CallRecordsFilter = 'inGraph' | 'afterReading';

export interface MeetingTarget {
	kind: 'meeting';
	/** The meeting's join URL, as the workflow author pasted it (Safe Links removed). */
	joinUrl: string;
}

export type SlotTarget = CallRecordsTarget | MeetingTarget;

export const CALL_RECORDS_RESOURCE = 'communications/callRecords';
export const CALL_RECORDS_MAX_LIFETIME_MINUTES = 4230;
export const CALL_RECORDS_PERMISSION = 'CallRecords.Read.All';
export const CALL_EVENTS_PERMISSION = 'CallEvents.Read.All';
export const MEETING_CALL_EVENTS_PERMISSION = 'OnlineMeetings.Read.All';
/** Graph allows 3 days for onlineMeeting subscriptions; this stays under it as Graph's own examples do. */
export const MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES = 4230;

/**
 * Longest resource (with its filter) one call-records subscription gets. Graph documents no limit for the
 * participants filter; this stays well below common URL limits, so a long user list is split into several
 * subscriptions (about 50 users each) of the 100 Graph allows per organization.
 */
export const CALL_RECORDS_RESOURCE_MAX_LENGTH = 2000;

/** `participants/any(p:p/id in ('…','…'))`: the shortest documented form per ID. */
function filterFor(ids: string[]): string {
	return `${CALL_RECORDS_RESOURCE}?$filter=participants/any(p:p/id in (${ids.map((id) => `'${id}'`).join(',')}))`;
}

/** The resources of a call-records trigger: one for the whole tenant, or filter chunks under the limit. */
export function callRecordsTargets(
	participantIds: string[],
	filter: CallRecordsFilter = 'inGraph',
): Array<{ resource: string; target: CallRecordsTarget }> {
	const ids = [...new Set(participantIds.map((id) => id.toLowerCase()))];
	if (ids.length === 0) return [{ resource: CALL_RECORDS_RESOURCE, target: { kind: 'callRecords', participantIds: [] } }];
	if (filter === 'afterReading') {
		return [{ resource: CALL_RECORDS_RESOURCE, target: { kind: 'callRecords', participantIds: [], keptParticipantIds: ids } }];
	}
	const chunks: string[][] = [];
	let current: string[] = [];
	for (const id of ids) {
		if (current.length > 0 && filterFor([...current, id]).length > CALL_RECORDS_RESOURCE_MAX_LENGTH) {
			chunks.push(current);
			current = [];
		}
		current.push(id);
	}
	chunks.push(current);
	return chunks.map((chunk) => ({ resource: filterFor(chunk), target: { kind: 'callRecords', participantIds: chunk } }));
}

/** A stable, non-empty key for a call-records slot (what `userId` is for a user's slot). */
export function callRecordsSlotKey(target: CallRecordsTarget): string {
	if (target.keptParticipantIds) {
		return `callRecords:kept:${createHash('sha256').update(target.keptParticipantIds.join(',')).digest('hex').slice(0, 16)}`;
	}
	if (target.participantIds.length === 0) return 'callRecords:tenant';
	return `callRecords:${createHash('sha256').update(target.participantIds.join(',')).digest('hex').slice(0, 16)}`;
}

/** A stable, non-empty key for a meeting's slot. */
export function meetingSlotKey(joinUrl: string): string {
	return `meeting:${createHash('sha256').update(joinUrl).digest('hex').slice(0, 16)}`;
}

/** How a call-records slot is named in logs and messages. */
export function callRecordsSlotLabel(target: CallRecordsTarget, users: string[]): string {
	if (target.participantIds.length === 0 && !target.keptParticipantIds) return 'call records of the whole tenant';
	const shown = users.slice(0, 3).join(', ');
	const more = users.length > 3 ? ` and ${users.length - 3} more` : '';
	const where = target.keptParticipantIds ? ' (the whole tenant, kept after reading)' : '';
	return `call records of ${shown}${more}${where}`;
}

/** A call-records notification names `communications/callRecords/{id}`; the ID Graph gives records is a GUID. */
const CALL_RECORD_NOTIFICATION_RESOURCE = /^\/?communications\/callRecords\/([0-9A-Za-z-]{1,128})$/i;

export function callRecordIdOf(resource: unknown): string | undefined {
	if (typeof resource !== 'string') return undefined;
	return CALL_RECORD_NOTIFICATION_RESOURCE.exec(resource)?.[1];
}
