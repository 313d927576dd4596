import { X509Certificate } from 'crypto';
import type { DirectoryUser } from './directory';
import { GraphHttpError } from './errors';
import {
	CALL_RECORDS_CHANGE_TYPES,
	CALL_RECORDS_MAX_LIFETIME_MINUTES,
	isCallRecordsResource,
	parseCallRecordsResource,
} from './callRecordSubscriptionRules';
import { graphDateTime } from './ids';
import { isMeetingCallEventsResource, MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES } from './meetingCallEvents';

/**
 * The create/renew checks Graph applies to a subscription request for the per-user call resources.
 * Messages follow Graph's wording where it is documented (see shared/reference/graph-notifications.md §1).
 */
export interface SubscriptionRuleOptions {
	now: () => number;
	maxLifetimeMinutes: number;
	/** Graph silently raises any expiry under 45 minutes away to now + 45 min. 0 turns that off. */
	minLifetimeMinutes: number;
	/** Teams resources need a lifecycleNotificationUrl when the expiry is more than this far away. */
	lifecycleUrlRequiredAfterMinutes: number;
	/** Accept http:// webhook URLs (for end-to-end runs against a plain-HTTP n8n). Graph never does. */
	allowHttpNotificationUrl: boolean;
	/** The call resources only support rich notifications (seed doc). */
	richNotificationsOnly: boolean;
	findUser: (idOrUpn: string) => DirectoryUser | undefined;
	/** Longest call-records resource (with its filter) accepted; see callRecordSubscriptionRules. */
	callRecordsResourceMaxLength?: number;
	/** Longest call-record subscription lifetime (default CALL_RECORDS_MAX_LIFETIME_MINUTES). */
	callRecordsMaxLifetimeMinutes?: number;
}

export interface ValidatedSubscriptionRequest {
	resource: string;
	changeType: string;
	notificationUrl: string;
	lifecycleNotificationUrl: string | null;
	expiresAt: number;
	clientState: string | null;
	includeResourceData: boolean;
	encryptionCertificate: string | null;
	encryptionCertificateId: string | null;
	latestSupportedTlsVersion: string;
	notificationUrlAppId: string | null;
	/** Normalised for duplicate detection: no leading slash, lower case. */
	resourceKey: string;
	kind: 'callEvents' | 'callRecords' | 'meetingCallEvents';
}

const CALL_RESOURCES = [/^users?\/([^/]+)\/callConversations$/i, /^users\/([^/]+)\/communications\/callEvents$/i];
const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'];

const bad = (message: string, code = 'InvalidRequest') => new GraphHttpError(400, code, message);

export function validateCreateRequest(body: Record<string, unknown>, o: SubscriptionRuleOptions): ValidatedSubscriptionRequest {
	const changeType = requiredString(body, 'changeType');
	const notificationUrl = requiredString(body, 'notificationUrl');
	const resource = requiredString(body, 'resource');
	if (body.expirationDateTime === undefined || body.expirationDateTime === null) {
		throw bad('expirationDateTime is a required property for subscription creation.');
	}

	const changeTypes = changeType.split(',').map((c) => c.trim());
	if (changeTypes.some((c) => !['created', 'updated', 'deleted'].includes(c))) {
		throw bad(`Invalid changeType '${changeType}'. Valid values are created, updated, deleted.`);
	}
	checkWebhookUrl(notificationUrl, 'notificationUrl', o);
	const lifecycleNotificationUrl = optionalString(body, 'lifecycleNotificationUrl');
	if (lifecycleNotificationUrl !== null) checkWebhookUrl(lifecycleNotificationUrl, 'lifecycleNotificationUrl', o);

	const resourceKey = resource.replace(/^\/+/, '');
	if (isCallRecordsResource(resourceKey)) {
		return validateCallRecordsRequest(body, o, { resource, changeType, changeTypes, notificationUrl, lifecycleNotificationUrl, resourceKey });
	}
	// Meeting call events: the meeting, change type, permission and access policy are checked before this
	// (meetingCallEvents.ts); they differ from the per-user resources in lifetime and allow basic notifications.
	const meeting = isMeetingCallEventsResource(resourceKey);
	if (meeting) o = { ...o, maxLifetimeMinutes: MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES, richNotificationsOnly: false };
	const pattern = CALL_RESOURCES.find((p) => p.test(resourceKey));
	if (!pattern && !meeting) throw bad(`Resource '${resource}' is not supported for change notifications.`);
	const userId = pattern?.exec(resourceKey)?.[1] ?? '';
	if (!meeting && !o.findUser(userId)) {
		throw new GraphHttpError(
			404,
			'ExtensionError',
			`Operation: Create; Exception: [Status Code: NotFound; Reason: User '${userId}' was not found.]`,
		);
	}
	if (changeTypes.some((c) => c !== 'updated')) {
		throw bad(`ChangeType '${changeType}' is not supported for resource '${resource}'. Supported change types: updated.`);
	}

	const expiresAt = checkExpiration(body.expirationDateTime, o);
	if (lifecycleNotificationUrl === null && expiresAt > o.now() + o.lifecycleUrlRequiredAfterMinutes * 60_000) {
		throw bad(
			'lifecycleNotificationUrl is required for subscription creation on this resource when the expirationDateTime value exceeds 1 hour.',
		);
	}

	const clientState = optionalString(body, 'clientState');
	if (clientState !== null && clientState.length > 128) {
		throw bad('clientState cannot be longer than 128 characters.');
	}

	const includeResourceData = body.includeResourceData === true;
	if (body.includeResourceData !== undefined && typeof body.includeResourceData !== 'boolean') {
		throw bad("Property 'includeResourceData' must be a boolean.", 'BadRequest');
	}
	if (!includeResourceData && o.richNotificationsOnly) {
		throw bad(`Resource '${resource}' only supports change notifications with resource data (includeResourceData: true).`);
	}
	const encryptionCertificate = optionalString(body, 'encryptionCertificate');
	const encryptionCertificateId = optionalString(body, 'encryptionCertificateId');
	if (includeResourceData) {
		if (encryptionCertificate === null) {
			throw bad('A valid encryptionCertificate is required when includeResourceData is true.');
		}
		if (encryptionCertificateId === null) {
			throw bad('encryptionCertificateId is required when includeResourceData is true.');
		}
		checkEncryptionCertificate(encryptionCertificate);
	}
	if (encryptionCertificateId !== null && encryptionCertificateId.length > 128) {
		throw bad('encryptionCertificateId cannot be longer than 128 characters.');
	}

	const tls = optionalString(body, 'latestSupportedTlsVersion') ?? 'v1_2';
	if (!TLS_VERSIONS.includes(tls)) throw bad(`Invalid latestSupportedTlsVersion '${tls}'.`);

	return {
		resource,
		changeType,
		notificationUrl,
		lifecycleNotificationUrl,
		expiresAt,
		clientState,
		includeResourceData,
		encryptionCertificate,
		encryptionCertificateId,
		latestSupportedTlsVersion: tls,
		notificationUrlAppId: optionalString(body, 'notificationUrlAppId'),
		resourceKey: resourceKey.toLowerCase(),
		kind: meeting ? 'meetingCallEvents' : 'callEvents',
	};
}

/**
 * communications/callRecords (v1.0): created and updated only, at most 4,230 minutes, basic notifications
 * only (callRecord is not among the resources with resource data, so no includeResourceData and no
 * encryption certificate), the participants filter Graph documents.
 */
function validateCallRecordsRequest(
	body: Record<string, unknown>,
	o: SubscriptionRuleOptions,
	common: { resource: string; changeType: string; changeTypes: string[]; notificationUrl: string; lifecycleNotificationUrl: string | null; resourceKey: string },
): ValidatedSubscriptionRequest {
	parseCallRecordsResource(common.resource, o.callRecordsResourceMaxLength);
	if (common.changeTypes.some((c) => !CALL_RECORDS_CHANGE_TYPES.includes(c))) {
		throw bad(`ChangeType '${common.changeType}' is not supported for resource '${common.resource}'. Supported change types: created, updated.`);
	}
	const expiresAt = checkExpiration(body.expirationDateTime, { ...o, maxLifetimeMinutes: callRecordsMaxLifetimeMinutes(o) });
	if (common.lifecycleNotificationUrl === null && expiresAt > o.now() + o.lifecycleUrlRequiredAfterMinutes * 60_000) {
		throw bad('lifecycleNotificationUrl is required for subscription creation on this resource when the expirationDateTime value exceeds 1 hour.');
	}
	if (body.includeResourceData !== undefined && body.includeResourceData !== false) {
		throw bad(`Resource '${common.resource}' does not support change notifications with resource data (includeResourceData).`);
	}
	if (body.encryptionCertificate !== undefined && body.encryptionCertificate !== null) {
		throw bad(`Resource '${common.resource}' does not support change notifications with resource data; encryptionCertificate must not be set.`);
	}
	const clientState = optionalString(body, 'clientState');
	if (clientState !== null && clientState.length > 128) throw bad('clientState cannot be longer than 128 characters.');
	const tls = optionalString(body, 'latestSupportedTlsVersion') ?? 'v1_2';
	if (!TLS_VERSIONS.includes(tls)) throw bad(`Invalid latestSupportedTlsVersion '${tls}'.`);
	return {
		resource: common.resource,
		changeType: common.changeType,
		notificationUrl: common.notificationUrl,
		lifecycleNotificationUrl: common.lifecycleNotificationUrl,
		expiresAt,
		clientState,
		includeResourceData: false,
		encryptionCertificate: null,
		encryptionCertificateId: null,
		latestSupportedTlsVersion: tls,
		notificationUrlAppId: optionalString(body, 'notificationUrlAppId'),
		resourceKey: common.resourceKey.toLowerCase(),
		kind: 'callRecords',
	};
}

/** What Graph grants a call-record subscription at most: 4,230 minutes unless a test lowers it. */
export function callRecordsMaxLifetimeMinutes(o: SubscriptionRuleOptions): number {
	return o.callRecordsMaxLifetimeMinutes ?? CALL_RECORDS_MAX_LIFETIME_MINUTES;
}

/** Shared by create and PATCH: in the future, within the maximum, raised to the minimum. */
export function checkExpiration(value: unknown, o: SubscriptionRuleOptions): number {
	const ms = typeof value === 'string' ? Date.parse(value) : NaN;
	if (Number.isNaN(ms)) throw bad(`Invalid expirationDateTime '${String(value)}'.`, 'BadRequest');
	const now = o.now();
	if (ms <= now) {
		throw bad(`Subscription expiration must be in the future. Requested: ${graphDateTime(ms)}, now: ${graphDateTime(now)}.`);
	}
	// A tiny allowance: clients compute "now + max" a few ms before Graph receives the request.
	if (ms > now + o.maxLifetimeMinutes * 60_000 + 5_000) {
		throw bad(`Subscription expiration can only be ${o.maxLifetimeMinutes} minutes in the future.`, 'ExtensionError');
	}
	const floor = now + Math.min(o.minLifetimeMinutes, o.maxLifetimeMinutes) * 60_000;
	return Math.max(ms, floor);
}

export function checkWebhookUrl(url: string, name: string, o: SubscriptionRuleOptions): void {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw bad(`Invalid ${name} '${url}'.`);
	}
	const allowed = parsed.protocol === 'https:' || (o.allowHttpNotificationUrl && parsed.protocol === 'http:');
	if (!allowed) throw bad(`The ${name} must be an https URL. Provided: '${url}'.`);
}

export function checkEncryptionCertificate(base64: string): void {
	let cert: X509Certificate;
	try {
		// Graph takes base64 DER; a PEM body without its armour lines is the same thing.
		cert = new X509Certificate(Buffer.from(base64.replace(/\s+/g, ''), 'base64'));
	} catch {
		throw bad('The encryptionCertificate is not a valid base64-encoded X.509 certificate.');
	}
	if (cert.publicKey.asymmetricKeyType !== 'rsa') {
		throw bad('The encryptionCertificate must contain an RSA public key.');
	}
	const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
	if (bits < 2048 || bits > 4096) throw bad(`The encryptionCertificate key must be 2048 to 4096 bits; it has ${bits}.`);
}

function requiredString(body: Record<string, unknown>, name: string): string {
	const value = body[name];
	if (typeof value !== 'string' || value.trim() === '') {
		throw bad(`${name} is a required property for subscription creation.`);
	}
	return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
	const value = body[name];
	if (value === undefined || value === null) return null;
	if (typeof value !== 'string') throw bad(`Property '${name}' must be a string.`, 'BadRequest');
	return value;
}
