import type { AccessTokenClaims } from './accessTokens';
import type { AppRegistration } from './directory';
import { GraphHttpError } from './errors';
import { CALL_RECORDS_PERMISSION } from './callRecords';
import {
	CALL_RECORDS_SUBSCRIPTIONS_PER_ORGANIZATION,
	isCallRecordsResource,
} from './callRecordSubscriptionRules';
import { graphDateTime, newGuid } from './ids';
import {
	checkMeetingSubscriptionRequest,
	isMeetingCallEventsResource,
	joinUrlOfSubscriptionResource,
	MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES,
	meetingKey,
	type MeetingDirectory,
} from './meetingCallEvents';
import {
	callRecordsMaxLifetimeMinutes,
	checkEncryptionCertificate,
	checkExpiration,
	checkWebhookUrl,
	validateCreateRequest,
	type SubscriptionRuleOptions,
} from './subscriptionRules';
import type { StoredSubscription, SubscriptionStore } from './subscriptionStore';
import { validateEndpoint, type HandshakeOptions, type HandshakeRecord } from './validationHandshake';

/**
 * /subscriptions on the Graph host. Handlers return { status, body } and throw GraphHttpError; the router
 * writes the response.
 */
export interface SubscriptionsApiDeps {
	store: SubscriptionStore;
	rules: SubscriptionRuleOptions;
	handshake: HandshakeOptions;
	recordHandshake: (r: HandshakeRecord) => void;
	findApp: (tenantId: string, clientId: string) => AppRegistration | undefined;
	graphBaseUrl: () => string;
	pageSize: number;
	rejectDuplicates: boolean;
	/** 'resource': Graph's documented rule (one per resource and change type per app, whatever the URL). */
	duplicateScope?: 'resourceAndUrl' | 'resource';
	/** A PATCH may move a subscription to another encryption certificate (Graph's key-rotation guidance). */
	certificateUpdateByPatch?: boolean;
	/** The caller needs one of these roles to subscribe. */
	subscriptionPermissions: string[];
	/** Creations in progress, and the most at once. */
	createConcurrency?: { current: number; peak: number };
	/** Online meetings and application access policies, for meetingCallEvents subscriptions. */
	meetings?: MeetingDirectory;
	now: () => number;
}

export interface ApiResult {
	status: number;
	body?: unknown;
}

const FORBIDDEN_CREATE =
	'Operation: Create; Exception: [Status Code: Forbidden; Reason: The request is not authorized for this user or application.]';

export function toGraphJson(s: StoredSubscription, version: string, graphBaseUrl: string, withClientState: boolean) {
	return {
		'@odata.context': `${graphBaseUrl}/${version}/$metadata#subscriptions/$entity`,
		id: s.id,
		resource: s.resource,
		applicationId: s.applicationId,
		changeType: s.changeType,
		// Graph never returns clientState after creation ("for security purposes").
		clientState: withClientState ? s.clientState : null,
		notificationUrl: s.notificationUrl,
		notificationQueryOptions: s.notificationQueryOptions,
		lifecycleNotificationUrl: s.lifecycleNotificationUrl,
		expirationDateTime: s.expirationDateTime,
		creatorId: s.creatorId,
		includeResourceData: s.includeResourceData,
		latestSupportedTlsVersion: s.latestSupportedTlsVersion,
		encryptionCertificate: s.encryptionCertificate,
		encryptionCertificateId: s.encryptionCertificateId,
		notificationUrlAppId: s.notificationUrlAppId,
		notificationContentType: 'application/json',
	};
}

export async function createSubscription(
	body: Record<string, unknown>,
	caller: AccessTokenClaims,
	version: string,
	deps: SubscriptionsApiDeps,
): Promise<ApiResult> {
	if (typeof body.resource === 'string' && isMeetingCallEventsResource(body.resource) && deps.meetings) {
		checkMeetingSubscriptionRequest(body, { appid: caller.appid, roles: caller.roles ?? [] }, version, deps.meetings);
		// One subscription per app per meeting, whichever documented form of the resource names it.
		const meetingOf = (resource: string) => meetingKey(joinUrlOfSubscriptionResource(resource));
		const wanted = meetingOf(body.resource);
		const existing = deps.store
			.listLive(caller.appid)
			.find((s) => isMeetingCallEventsResource(s.resource) && meetingOf(s.resource) === wanted);
		if (existing && deps.rejectDuplicates) {
			throw new GraphHttpError(409, 'Conflict', `Subscription Id ${existing.id} already exists for the requested combination`);
		}
	}
	const meeting = typeof body.resource === 'string' && isMeetingCallEventsResource(body.resource);
	const callRecords = typeof body.resource === 'string' && isCallRecordsResource(body.resource.replace(/^\/+/, ''));
	const permissions = callRecords ? [CALL_RECORDS_PERMISSION] : deps.subscriptionPermissions;
	if (!meeting && !permissions.some((p) => caller.roles.includes(p))) {
		throw new GraphHttpError(403, 'ExtensionError', FORBIDDEN_CREATE);
	}
	const request = validateCreateRequest(body, deps.rules);
	if (request.kind === 'callRecords') checkCallRecordsQuota(caller, deps);
	const concurrency = deps.createConcurrency ?? { current: 0, peak: 0 };
	concurrency.current += 1;
	concurrency.peak = Math.max(concurrency.peak, concurrency.current);
	try {
		return await completeCreate(request, caller, version, deps);
	} finally {
		concurrency.current -= 1;
	}
}

async function completeCreate(
	request: ReturnType<typeof validateCreateRequest>,
	caller: AccessTokenClaims,
	version: string,
	deps: SubscriptionsApiDeps,
): Promise<ApiResult> {
	const rejectDuplicate = () => {
		if (!deps.rejectDuplicates) return;
		const existing = deps.store
			.listLive(caller.appid)
			.find(
				(s) =>
					s.resource.replace(/^\/+/, '').toLowerCase() === request.resourceKey &&
					(deps.duplicateScope === 'resource' || s.notificationUrl === request.notificationUrl) &&
					s.changeType === request.changeType,
			);
		if (existing) {
			throw new GraphHttpError(409, 'Conflict', `Subscription Id ${existing.id} already exists for the requested combination`);
		}
	};
	rejectDuplicate();

	// Both endpoints are validated, one after the other, even when they are the same URL.
	await validateEndpoint(request.notificationUrl, deps.handshake, deps.recordHandshake);
	if (request.lifecycleNotificationUrl !== null) {
		await validateEndpoint(request.lifecycleNotificationUrl, deps.handshake, deps.recordHandshake);
	}

	// Again after the (slow) handshake, so two concurrent identical creates cannot both succeed.
	rejectDuplicate();
	const app = deps.findApp(caller.tid, caller.appid);
	const subscription: StoredSubscription = {
		id: newGuid(),
		resource: request.resource,
		changeType: request.changeType,
		notificationUrl: request.notificationUrl,
		lifecycleNotificationUrl: request.lifecycleNotificationUrl,
		expirationDateTime: graphDateTime(request.expiresAt),
		expiresAt: request.expiresAt,
		clientState: request.clientState,
		applicationId: caller.appid,
		tenantId: caller.tid,
		creatorId: app?.servicePrincipalId ?? caller.oid,
		includeResourceData: request.includeResourceData,
		encryptionCertificate: request.encryptionCertificate,
		encryptionCertificateId: request.encryptionCertificateId,
		latestSupportedTlsVersion: request.latestSupportedTlsVersion,
		notificationUrlAppId: request.notificationUrlAppId,
		notificationQueryOptions: null,
		createdAt: deps.now(),
		state: 'active',
		updateCount: 0,
		reauthorizeCount: 0,
	};
	deps.store.add(subscription);
	return { status: 201, body: toGraphJson(subscription, version, deps.graphBaseUrl(), true) };
}

/** Graph's quota for callRecord subscriptions: 100 per organization, all apps together (403 beyond it). */
function checkCallRecordsQuota(caller: AccessTokenClaims, deps: SubscriptionsApiDeps): void {
	const inTenant = deps.store
		.listLive()
		.filter((s) => s.tenantId === caller.tid && isCallRecordsResource(s.resource.replace(/^\/+/, '')));
	if (inTenant.length >= CALL_RECORDS_SUBSCRIPTIONS_PER_ORGANIZATION) {
		throw new GraphHttpError(
			403,
			'ExtensionError',
			`Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum number of ${CALL_RECORDS_SUBSCRIPTIONS_PER_ORGANIZATION} subscriptions for resource 'communications/callRecords' in this organization has been reached.]`,
		);
	}
}

export function getSubscription(id: string, caller: AccessTokenClaims, version: string, deps: SubscriptionsApiDeps): ApiResult {
	const s = liveOrNotFound(id, caller, deps);
	return { status: 200, body: toGraphJson(s, version, deps.graphBaseUrl(), false) };
}

export function listSubscriptions(
	caller: AccessTokenClaims,
	version: string,
	skipToken: string | null,
	deps: SubscriptionsApiDeps,
): ApiResult {
	const all = deps.store.listLive(caller.appid);
	const offset = skipToken === null ? 0 : decodeSkipToken(skipToken);
	const page = all.slice(offset, offset + deps.pageSize);
	const base = deps.graphBaseUrl();
	const next = offset + deps.pageSize < all.length ? encodeSkipToken(offset + deps.pageSize) : undefined;
	return {
		status: 200,
		body: {
			'@odata.context': `${base}/${version}/$metadata#subscriptions`,
			...(next ? { '@odata.nextLink': `${base}/${version}/subscriptions?$skiptoken=${next}` } : {}),
			value: page.map((s) => {
				// Items in a collection carry no @odata.context of their own.
				const item: Record<string, unknown> = toGraphJson(s, version, base, false);
				delete item['@odata.context'];
				return item;
			}),
		},
	};
}

export function updateSubscription(
	id: string,
	body: Record<string, unknown>,
	caller: AccessTokenClaims,
	version: string,
	deps: SubscriptionsApiDeps,
): ApiResult {
	const s = liveOrNotFound(id, caller, deps);
	const updatable = ['expirationDateTime', 'notificationUrl'];
	const callRecords = isCallRecordsResource(s.resource.replace(/^\/+/, ''));
	if (deps.certificateUpdateByPatch && !callRecords) updatable.push('encryptionCertificate', 'encryptionCertificateId');
	const extra = Object.keys(body).filter((k) => !updatable.includes(k) && !k.startsWith('@odata.'));
	if (extra.length > 0) {
		throw new GraphHttpError(400, 'InvalidRequest', `Only ${updatable.join(', ')} can be updated; not: ${extra.join(', ')}.`);
	}
	if (body.expirationDateTime === undefined && body.notificationUrl === undefined) {
		throw new GraphHttpError(400, 'InvalidRequest', 'expirationDateTime or notificationUrl is required to update a subscription.');
	}
	const certificate = certificateUpdateOf(body);
	const meeting = isMeetingCallEventsResource(s.resource);
	const rules = callRecords
		? { ...deps.rules, maxLifetimeMinutes: callRecordsMaxLifetimeMinutes(deps.rules) }
		: meeting
			? { ...deps.rules, maxLifetimeMinutes: MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES }
			: deps.rules;
	const expiresAt = body.expirationDateTime === undefined ? s.expiresAt : checkExpiration(body.expirationDateTime, rules);
	if (body.notificationUrl !== undefined) {
		if (typeof body.notificationUrl !== 'string') throw new GraphHttpError(400, 'BadRequest', "Property 'notificationUrl' must be a string.");
		checkWebhookUrl(body.notificationUrl, 'notificationUrl', deps.rules);
		s.notificationUrl = body.notificationUrl;
	}
	if (certificate) {
		s.encryptionCertificate = certificate.encryptionCertificate;
		s.encryptionCertificateId = certificate.encryptionCertificateId;
	}
	s.expiresAt = expiresAt;
	s.expirationDateTime = graphDateTime(expiresAt);
	// Renewing also reauthorizes (lifecycle-events doc).
	s.updateCount += 1;
	s.lastReauthorizedAt = deps.now();
	return { status: 200, body: toGraphJson(s, version, deps.graphBaseUrl(), false) };
}

/** Both fields or neither, and a certificate Graph could encrypt with. */
function certificateUpdateOf(body: Record<string, unknown>): { encryptionCertificate: string; encryptionCertificateId: string } | undefined {
	const { encryptionCertificate, encryptionCertificateId } = body;
	if (encryptionCertificate === undefined && encryptionCertificateId === undefined) return undefined;
	if (typeof encryptionCertificate !== 'string' || typeof encryptionCertificateId !== 'string' || encryptionCertificateId.length > 128) {
		throw new GraphHttpError(400, 'InvalidRequest', 'encryptionCertificate and encryptionCertificateId (up to 128 characters) must be updated together.');
	}
	checkEncryptionCertificate(encryptionCertificate);
	return { encryptionCertificate, encryptionCertificateId };
}

export function deleteSubscription(id: string, caller: AccessTokenClaims, deps: SubscriptionsApiDeps): ApiResult {
	const s = liveOrNotFound(id, caller, deps);
	deps.store.setState(s.id, 'deleted');
	return { status: 204 };
}

export function reauthorizeSubscription(id: string, caller: AccessTokenClaims, deps: SubscriptionsApiDeps): ApiResult {
	const s = liveOrNotFound(id, caller, deps);
	s.reauthorizeCount += 1;
	s.lastReauthorizedAt = deps.now();
	return { status: 204 };
}

function liveOrNotFound(id: string, caller: AccessTokenClaims, deps: SubscriptionsApiDeps): StoredSubscription {
	const s = deps.store.getLive(id, caller.appid);
	if (!s) throw new GraphHttpError(404, 'ResourceNotFound', `The object was not found. Subscription '${id}' does not exist or has expired.`);
	return s;
}

function encodeSkipToken(offset: number): string {
	return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeSkipToken(token: string): number {
	try {
		const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
		if (typeof parsed.offset === 'number' && parsed.offset >= 0) return parsed.offset;
	} catch {
		// fall through
	}
	throw new GraphHttpError(400, 'BadRequest', 'Invalid $skiptoken.');
}
