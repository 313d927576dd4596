import type { AccessTokenClaims } from './accessTokens';
import type { DirectoryUser } from './directory';
import { GraphHttpError } from './errors';
import { graphDateTime, newGuid } from './ids';
import type { ApiResult } from './subscriptionsApi';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * Teams call records as Graph v1.0 serves them (api-reference/v1.0/api/callrecords-callrecord-get.md,
 * concepts/changenotifications-for-callrecords.md): a record exists once a call ended, is readable for 30
 * days, and may be unreadable (404) for its first seconds. GET /communications/callRecords/{id} returns the
 * record; `$expand=sessions($expand=segments)` adds sessions, at most 60 per page, the rest behind
 * `sessions@odata.nextLink`; `$expand=participants_v2` adds the participants, at most 130 per page, the
 * rest behind `participants_v2@odata.nextLink`. `organizer_v2` comes expanded by default. The deprecated
 * `organizer` and `participants` properties stopped returning data on June 30, 2026 (callRecord resource
 * page), so they come back empty. Only apps with CallRecords.Read.All may read.
 */
export const CALL_RECORDS_PERMISSION = 'CallRecords.Read.All';
/** Graph's documented maximum page size for sessions. */
export const MAX_SESSIONS_PAGE_SIZE = 60;
/** Graph's documented maximum page size for participants_v2. */
export const MAX_PARTICIPANTS_PAGE_SIZE = 130;
export const CALL_RECORD_RETENTION_MS = 30 * 86_400_000;

export interface CallRecordSegment {
	id: string;
	startDateTime: string;
	endDateTime: string;
	[field: string]: unknown;
}

export interface CallRecordSession {
	id: string;
	modalities: string[];
	startDateTime: string;
	endDateTime: string;
	segments: CallRecordSegment[];
	[field: string]: unknown;
}

export interface StoredCallRecord {
	id: string;
	version: number;
	type: string;
	modalities: string[];
	startDateTime: string;
	endDateTime: string;
	lastModifiedDateTime: string;
	joinWebUrl: string | null;
	organizer: DirectoryUser | null;
	participants: DirectoryUser[];
	sessions: CallRecordSession[];
	/** Simulator clock, ms: when Graph created the record. */
	createdAt: number;
	/** Graph answers 404 until this (simulator clock, ms). */
	readableFrom: number;
	/** Fields Graph may add later: passed through as they are. */
	extra: Record<string, unknown>;
}

export interface CallRecordInput {
	id?: string;
	type?: string;
	modalities?: string[];
	startDateTime?: string;
	endDateTime?: string;
	/** When Graph last changed the record (default: now); a test may set it in the past. */
	lastModifiedDateTime?: string;
	joinWebUrl?: string | null;
	organizer?: DirectoryUser | null;
	participants?: DirectoryUser[];
	/** How many sessions (each with one segment) the record has. */
	sessionCount?: number;
	/** Graph answers 404 for this long after creation (default: the simulator's callRecordReadDelayMs). */
	notReadableForMs?: number;
	extra?: Record<string, unknown>;
}

function identitySet(user: DirectoryUser, tenantId: string): Record<string, unknown> {
	return { user: { id: user.id, displayName: user.displayName, tenantId } };
}

export class CallRecordStore {
	private readonly records = new Map<string, StoredCallRecord>();

	constructor(
		private readonly now: () => number,
		private readonly defaultReadDelayMs: () => number,
	) {}

	add(input: CallRecordInput): StoredCallRecord {
		const now = this.now();
		const end = input.endDateTime ?? graphDateTime(now - 60_000);
		const start = input.startDateTime ?? graphDateTime(Date.parse(end) - 5 * 60_000);
		const id = input.id ?? newGuid();
		const modalities = input.modalities ?? ['audio'];
		const sessions = Array.from({ length: input.sessionCount ?? 1 }, (_, index): CallRecordSession => {
			const sessionId = newGuid();
			return {
				id: sessionId,
				modalities,
				startDateTime: start,
				endDateTime: end,
				isTest: false,
				caller: { '@odata.type': '#microsoft.graph.callRecords.participantEndpoint', name: `machine_${index}` },
				segments: [{ id: sessionId, startDateTime: start, endDateTime: end, media: [] }],
			};
		});
		const record: StoredCallRecord = {
			id,
			version: 1,
			type: input.type ?? 'peerToPeer',
			modalities,
			startDateTime: start,
			endDateTime: end,
			lastModifiedDateTime: input.lastModifiedDateTime ?? graphDateTime(now),
			joinWebUrl: input.joinWebUrl === undefined ? null : input.joinWebUrl,
			organizer: input.organizer === undefined ? null : input.organizer,
			participants: input.participants ?? [],
			sessions,
			// A record modified in the past was created no later than that.
			createdAt: input.lastModifiedDateTime ? Math.min(now, Date.parse(input.lastModifiedDateTime)) : now,
			readableFrom: now + (input.notReadableForMs ?? this.defaultReadDelayMs()),
			extra: input.extra ?? {},
		};
		this.records.set(id.toLowerCase(), record);
		return record;
	}

	/** A revision: Graph increments `version` (and sends `updated` notifications). */
	update(id: string, changes: Partial<Pick<StoredCallRecord, 'endDateTime' | 'modalities' | 'participants' | 'extra'>>): StoredCallRecord {
		const record = this.find(id);
		if (!record) throw new Error(`Unknown call record ${id}`);
		Object.assign(record, changes);
		record.version += 1;
		record.lastModifiedDateTime = graphDateTime(this.now());
		return record;
	}

	find(id: string): StoredCallRecord | undefined {
		return this.records.get(id.toLowerCase());
	}

	/** What GET sees: readable, and not past Graph's 30 days. */
	readable(id: string): StoredCallRecord | undefined {
		const record = this.find(id);
		const now = this.now();
		if (!record || now < record.readableFrom || now - record.createdAt > CALL_RECORD_RETENTION_MS) return undefined;
		return record;
	}

	/** What the list sees: the same records GET can read. */
	listable(): StoredCallRecord[] {
		return [...this.records.values()].filter((record) => this.readable(record.id) === record);
	}
}

export interface CallRecordsApiDeps {
	store: CallRecordStore;
	graphBaseUrl: () => string;
	tenantIdOf: (caller: AccessTokenClaims) => string;
	sessionsPageSize: number;
	participantsPageSize?: number;
	/** How long each record read takes (default 0), and how many were in progress at once. */
	readLatencyMs?: number;
	readConcurrency?: { current: number; peak: number };
}

/** Counts reads in progress (and the most at once) while each takes the configured latency. */
export async function timedRead<T>(deps: CallRecordsApiDeps, read: () => T): Promise<T> {
	const concurrency = deps.readConcurrency ?? { current: 0, peak: 0 };
	concurrency.current += 1;
	concurrency.peak = Math.max(concurrency.peak, concurrency.current);
	try {
		if (deps.readLatencyMs) await new Promise((resolve) => setTimeout(resolve, deps.readLatencyMs));
		return read();
	} finally {
		concurrency.current -= 1;
	}
}

function notFound(id: string): GraphHttpError {
	return new GraphHttpError(404, 'NotFound', `The call record '${id}' was not found.`);
}

function checkPermission(caller: AccessTokenClaims): void {
	if (!caller.roles.includes(CALL_RECORDS_PERMISSION)) {
		throw new GraphHttpError(403, 'Forbidden', 'Insufficient privileges to complete the operation.');
	}
}

function sessionJson(session: CallRecordSession, withSegments: boolean): Record<string, unknown> {
	const json: Record<string, unknown> = { ...session };
	if (!withSegments) delete json.segments;
	return json;
}

function sessionsPage(
	record: StoredCallRecord,
	offset: number,
	withSegments: boolean,
	version: string,
	deps: CallRecordsApiDeps,
): { value: Record<string, unknown>[]; nextLink?: string } {
	const size = Math.min(deps.sessionsPageSize, MAX_SESSIONS_PAGE_SIZE);
	const value = record.sessions.slice(offset, offset + size).map((session) => sessionJson(session, withSegments));
	const next = offset + size < record.sessions.length ? offset + size : undefined;
	const expand = withSegments ? '$expand=segments&' : '';
	return {
		value,
		nextLink:
			next === undefined
				? undefined
				: `${deps.graphBaseUrl()}/${version}/communications/callRecords/${record.id}/sessions?${expand}$skiptoken=${Buffer.from(String(next)).toString('base64url')}`,
	};
}

function participantEntity(user: DirectoryUser, tenantId: string): Record<string, unknown> {
	return { id: user.id, identity: { user: { id: user.id, displayName: user.displayName, tenantId, userPrincipalName: user.userPrincipalName } } };
}

function participantsPage(
	record: StoredCallRecord,
	offset: number,
	tenantId: string,
	version: string,
	deps: CallRecordsApiDeps,
): { value: Record<string, unknown>[]; nextLink?: string } {
	const size = Math.min(deps.participantsPageSize ?? MAX_PARTICIPANTS_PAGE_SIZE, MAX_PARTICIPANTS_PAGE_SIZE);
	const value = record.participants.slice(offset, offset + size).map((user) => participantEntity(user, tenantId));
	const next = offset + size < record.participants.length ? offset + size : undefined;
	return {
		value,
		nextLink:
			next === undefined
				? undefined
				: `${deps.graphBaseUrl()}/${version}/communications/callRecords/${record.id}/participants_v2?$skiptoken=${Buffer.from(String(next)).toString('base64url')}`,
	};
}

/** Each documented expansion on its own: sessions (with segments), or participants_v2. */
function parseExpand(expand: string | null): { sessions: boolean; segments: boolean; participants?: boolean } {
	if (expand === null) return { sessions: false, segments: false };
	const value = expand.replace(/\s+/g, '');
	if (value === 'sessions($expand=segments)') return { sessions: true, segments: true };
	if (value === 'sessions') return { sessions: true, segments: false };
	if (value === 'participants_v2') return { sessions: false, segments: false, participants: true };
	throw new GraphHttpError(400, 'BadRequest', `Parsing OData Select and Expand failed: Could not find a property named '${expand}' on type 'microsoft.graph.callRecords.callRecord'.`);
}

/** A record's own properties, as the list returns it: without sessions and participants_v2. */
export function listedCallRecordJson(record: StoredCallRecord, tenantId: string, base: string, version: string): Record<string, unknown> {
	return {
		version: record.version,
		type: record.type,
		modalities: record.modalities,
		lastModifiedDateTime: record.lastModifiedDateTime,
		startDateTime: record.startDateTime,
		endDateTime: record.endDateTime,
		id: record.id,
		joinWebUrl: record.joinWebUrl,
		// Deprecated; no data since June 30, 2026.
		organizer: null,
		'organizer_v2@odata.context': `${base}/${version}/$metadata#communications/callRecords('${record.id}')/organizer_v2/$entity`,
		organizer_v2: record.organizer ? { id: record.organizer.id, identity: identitySet(record.organizer, tenantId) } : null,
		...record.extra,
	};
}

/** GET /{v}/communications/callRecords/{id}[?$expand=sessions($expand=segments)] */
export function getCallRecord(
	id: string,
	query: URLSearchParams,
	caller: AccessTokenClaims,
	version: string,
	deps: CallRecordsApiDeps,
): ApiResult {
	checkPermission(caller);
	const expand = parseExpand(query.get('$expand'));
	const record = deps.store.readable(id);
	if (!record) throw notFound(id);
	const tenantId = deps.tenantIdOf(caller);
	const base = deps.graphBaseUrl();
	const body: Record<string, unknown> = {
		'@odata.context': `${base}/${version}/$metadata#communications/callRecords/$entity`,
		...listedCallRecordJson(record, tenantId, base, version),
		// Deprecated; no data since June 30, 2026.
		participants: [],
	};
	if (expand.participants) {
		const page = participantsPage(record, 0, tenantId, version, deps);
		body.participants_v2 = page.value;
		if (page.nextLink) body['participants_v2@odata.nextLink'] = page.nextLink;
	}
	if (expand.sessions) {
		const page = sessionsPage(record, 0, expand.segments, version, deps);
		body.sessions = page.value;
		if (page.nextLink) body['sessions@odata.nextLink'] = page.nextLink;
	}
	return { status: 200, body };
}

/** GET /{v}/communications/callRecords/{id}/sessions[?$expand=segments][&$skiptoken=…]: where a sessions nextLink points. */
export function listCallRecordSessions(
	id: string,
	query: URLSearchParams,
	caller: AccessTokenClaims,
	version: string,
	deps: CallRecordsApiDeps,
): ApiResult {
	checkPermission(caller);
	const record = deps.store.readable(id);
	if (!record) throw notFound(id);
	const expand = query.get('$expand');
	if (expand !== null && expand !== 'segments') {
		throw new GraphHttpError(400, 'BadRequest', `Parsing OData Select and Expand failed: '${expand}'.`);
	}
	const token = query.get('$skiptoken');
	const offset = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
	if (!Number.isInteger(offset) || offset < 0) throw new GraphHttpError(400, 'BadRequest', 'Invalid $skiptoken.');
	const page = sessionsPage(record, offset, expand === 'segments', version, deps);
	return {
		status: 200,
		body: {
			'@odata.context': `${deps.graphBaseUrl()}/${version}/$metadata#communications/callRecords('${record.id}')/sessions`,
			value: page.value,
			...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
		},
	};
}

/** GET /{v}/communications/callRecords/{id}/participants_v2[?$skiptoken=…]: where a participants nextLink points. */
export function listCallRecordParticipants(
	id: string,
	query: URLSearchParams,
	caller: AccessTokenClaims,
	version: string,
	deps: CallRecordsApiDeps,
): ApiResult {
	checkPermission(caller);
	const record = deps.store.readable(id);
	if (!record) throw notFound(id);
	const token = query.get('$skiptoken');
	const offset = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
	if (!Number.isInteger(offset) || offset < 0) throw new GraphHttpError(400, 'BadRequest', 'Invalid $skiptoken.');
	const page = participantsPage(record, offset, deps.tenantIdOf(caller), version, deps);
	return {
		status: 200,
		body: {
			'@odata.context': `${deps.graphBaseUrl()}/${version}/$metadata#communications/callRecords('${record.id}')/participants_v2`,
			value: page.value,
			...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
		},
	};
}

export interface BasicCallRecordNotification {
	subscriptionId: string;
	subscriptionExpirationDateTime: string;
	changeType: string;
	resource: string;
	resourceData: Record<string, unknown>;
	clientState: string | null;
	tenantId: string;
	[field: string]: unknown;
}

/** A basic notification: the record's ID only (concepts/changenotifications-for-callrecords.md, example 3). */
export function callRecordNotificationFor(
	subscription: SubscriptionLike,
	recordId: string,
	changeType: 'created' | 'updated' = 'created',
	overrides?: Record<string, unknown>,
): BasicCallRecordNotification {
	const item: BasicCallRecordNotification = {
		subscriptionId: subscription.id,
		clientState: subscription.clientState,
		changeType,
		resource: `communications/callRecords/${recordId}`,
		subscriptionExpirationDateTime: subscription.expirationDateTime,
		resourceData: {
			'@odata.type': '#Microsoft.Graph.callRecord',
			'@odata.id': `communications/callRecords/${recordId}`,
			id: recordId,
		},
		tenantId: subscription.tenantId,
	};
	for (const [key, value] of Object.entries(overrides ?? {})) {
		if (value === undefined) delete item[key];
		else item[key] = value;
	}
	return item;
}
