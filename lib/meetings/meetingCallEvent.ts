/**
 * What a meeting call event says, whichever revision of Graph's documentation its sender followed:
 *   current:  eventType callStarted | callEnded | rosterUpdated, roster changes in `participants@delta`
 *             (a participant with `removedState` has left; `isInLobby` tells the lobby from the call);
 *   earlier:  eventType Microsoft.Communication.CallStarted | CallEnded | CallRosterUpdate, roster changes in
 *             `activeParticipants@joined` and `activeParticipants@exited`, identities in PascalCase.
 * Unknown event types pass through marked as unknown, never dropped.
 */
export type MeetingEventKind = 'callStarted' | 'callEnded' | 'rosterUpdated' | 'unknown';

/** One person or endpoint in a roster change. */
export interface MeetingParticipant {
	/** The identity's ID (an Entra object ID for a user), or null when Graph sent none. */
	id: string | null;
	displayName: string | null;
	tenantId: string | null;
	/** Which kind of identity: user, guest, phone, acsUser, application, … as Graph named it (lower camel case). */
	identityType: string | null;
	/** The participant's ID in the call (differs from the identity's). */
	participantId: string | null;
	inLobby: boolean;
}

export interface MeetingCallEvent {
	event: MeetingEventKind;
	/** The eventType as sent, kept when the event is unknown. */
	originalEventType: unknown;
	eventDateTime: string | null;
	/** The notification's own ID of this event, when the payload carries one. */
	eventId: string | null;
	joined: MeetingParticipant[];
	left: MeetingParticipant[];
}

/** A Map, not an object: a received "constructor" or "__proto__" must not find Object.prototype's members. */
const KINDS = new Map<string, MeetingEventKind>([
	['callstarted', 'callStarted'],
	['callended', 'callEnded'],
	['rosterupdated', 'rosterUpdated'],
	['callrosterupdate', 'rosterUpdated'],
]);

export function normaliseMeetingEventType(value: unknown): MeetingEventKind {
	if (typeof value !== 'string') return 'unknown';
	const lastSegment = value.trim().replace(/^\{+|\}+$/g, '').split('.').pop() ?? '';
	return KINDS.get(lastSegment.toLowerCase()) ?? 'unknown';
}

export function readMeetingCallEvent(payload: Record<string, unknown>): MeetingCallEvent {
	const event = normaliseMeetingEventType(payload.eventType);
	const joined: MeetingParticipant[] = [];
	const left: MeetingParticipant[] = [];
	for (const entry of listOf(payload['participants@delta'])) {
		const participant = fromParticipant(entry);
		if (!participant) continue;
		(isObject(entry.removedState) ? left : joined).push(participant);
	}
	for (const entry of listOf(payload['activeParticipants@joined'])) {
		const participant = fromActiveParticipant(entry);
		if (participant) joined.push(participant);
	}
	for (const entry of listOf(payload['activeParticipants@exited'])) {
		const participant = fromActiveParticipant(entry);
		if (participant) left.push(participant);
	}
	return {
		event,
		originalEventType: payload.eventType,
		eventDateTime: typeof payload.eventDateTime === 'string' ? payload.eventDateTime : null,
		eventId: typeof payload.id === 'string' && !payload.id.includes('/') ? payload.id : null,
		joined,
		left,
	};
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): Json[] {
	return Array.isArray(value) ? value.filter(isObject) : [];
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The first identity of a Graph identitySet: `{ user: { id, displayName, tenantId } }`, any case. */
function firstIdentity(identitySet: unknown): { type: string; identity: Json } | undefined {
	if (!isObject(identitySet)) return undefined;
	for (const [type, identity] of Object.entries(identitySet)) {
		if (isObject(identity) && !type.startsWith('@')) return { type: type.charAt(0).toLowerCase() + type.slice(1), identity };
	}
	return undefined;
}

function property(object: Json, name: string): unknown {
	return object[name] ?? object[name.charAt(0).toUpperCase() + name.slice(1)];
}

function participantOf(identitySet: unknown, participantId: unknown, inLobby: unknown): MeetingParticipant | undefined {
	const found = firstIdentity(identitySet);
	if (!found && participantId === undefined) return undefined;
	return {
		id: found ? text(property(found.identity, 'id')) : null,
		displayName: found ? text(property(found.identity, 'displayName')) : null,
		tenantId: found ? text(property(found.identity, 'tenantId')) : null,
		identityType: found?.type ?? null,
		participantId: text(participantId),
		inLobby: inLobby === true,
	};
}

/** Current spelling: a participant resource, identity under `info.identity`. */
function fromParticipant(entry: Json): MeetingParticipant | undefined {
	const info = isObject(entry.info) ? entry.info : {};
	return participantOf(info.identity, entry.id, entry.isInLobby);
}

/** Earlier spelling: `{ id, identity: { User: { Id, DisplayName, TenantId } } }`. */
function fromActiveParticipant(entry: Json): MeetingParticipant | undefined {
	return participantOf(entry.identity, entry.id, entry.isInLobby);
}
