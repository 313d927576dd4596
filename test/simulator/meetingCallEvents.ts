import { encryptForSubscription } from './encryption';
import { GraphHttpError } from './errors';
import { newGuid } from './ids';
import type { ChangeNotificationItem } from './notifications';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * Graph's meeting call events (concepts/changenotifications-for-onlinemeeting.md, beta only):
 * `communications/onlineMeetings(joinWebUrl='{joinWebUrl}')/meetingCallEvents` (and the earlier
 * `communications/onlineMeetings/?$filter=JoinWebUrl eq '{joinWebUrl}'`), changeType `updated` only, at
 * most 3 days (4,230 minutes), one subscription per app per meeting, OnlineMeetings.Read.All or
 * .ReadWrite.All, and app-only access needs an application access policy. Rich notifications carry the
 * event encrypted; basic ones put its fields in resourceData. Two payload spellings exist across the docs'
 * revisions; both are built here.
 */
export const MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES = 4230;
export const MEETING_PERMISSIONS = ['OnlineMeetings.Read.All', 'OnlineMeetings.ReadWrite.All'];
export const NO_ACCESS_POLICY_MESSAGE =
	'Operation: Create; Exception: [Status Code: Forbidden; Reason: No application access policy found for this app.]';

const KEY_FORM = /^communications\/onlineMeetings\(joinWebUrl='([^']*)'\)\/meetingCallEvents$/i;
const FILTER_FORM = /^communications\/onlineMeetings\/?\?\$filter=joinWebUrl(?:\+|\s|%20)+eq(?:\+|\s|%20)+'([^']*)'$/i;

export function isMeetingCallEventsResource(resource: string): boolean {
	const trimmed = resource.replace(/^\/+/, '');
	return /^communications\/onlineMeetings/i.test(trimmed);
}

const bad = (message: string) => new GraphHttpError(400, 'InvalidRequest', message);

function decoded(value: string): string {
	try {
		return decodeURIComponent(value);
	} catch {
		throw bad('The joinWebUrl is not correctly URL-encoded.');
	}
}

/** The join URL a subscription resource names; Graph's 400 for any other onlineMeetings resource. */
export function joinUrlOfSubscriptionResource(resource: string): string {
	const trimmed = resource.replace(/^\/+/, '');
	const keyed = KEY_FORM.exec(trimmed);
	if (keyed) return decoded(keyed[1]);
	const filtered = FILTER_FORM.exec(trimmed);
	if (filtered) return /^https?%3a/i.test(filtered[1]) ? decoded(filtered[1]) : filtered[1];
	throw bad(`Resource '${resource}' is not supported for change notifications.`);
}

/** Escapes and host case differ between spellings of one join URL; thread and meeting IDs do not. */
export function meetingKey(joinUrl: string): string {
	let value = joinUrl.trim();
	for (let round = 0; round < 3; round++) {
		let next: string;
		try {
			next = decodeURIComponent(value);
		} catch {
			break;
		}
		if (next === value) break;
		value = next;
	}
	return value.replace(/^(https?:\/\/[^/]+)/i, (origin) => origin.toLowerCase());
}

export interface SimulatedMeeting {
	joinWebUrl: string;
	/** The meeting's ID in Graph (onlineMeeting id). */
	id: string;
	organizerId: string;
}

/** The tenant's online meetings, and the apps an application access policy lets read them. */
export class MeetingDirectory {
	private readonly meetings = new Map<string, SimulatedMeeting>();
	private readonly appsWithPolicy = new Set<string>();

	add(joinWebUrl: string, organizerId: string): SimulatedMeeting {
		const meeting = { joinWebUrl, id: newGuid(), organizerId };
		this.meetings.set(meetingKey(joinWebUrl), meeting);
		return meeting;
	}

	find(joinWebUrl: string): SimulatedMeeting | undefined {
		return this.meetings.get(meetingKey(joinWebUrl));
	}

	/** Grant-CsApplicationAccessPolicy for the app (tenant-wide, -Global). */
	grantAccessPolicy(clientId: string): void {
		this.appsWithPolicy.add(clientId.toLowerCase());
	}

	revokeAccessPolicy(clientId: string): void {
		this.appsWithPolicy.delete(clientId.toLowerCase());
	}

	hasAccessPolicy(clientId: string): boolean {
		return this.appsWithPolicy.has(clientId.toLowerCase());
	}
}

/**
 * The checks Graph makes for a meetingCallEvents subscription before the common ones: the beta endpoint,
 * the permission, the access policy, a meeting the tenant has, and `updated` as the only change type.
 */
export function checkMeetingSubscriptionRequest(
	body: Record<string, unknown>,
	caller: { appid: string; roles: string[] },
	version: string,
	meetings: MeetingDirectory,
): void {
	const resource = String(body.resource);
	if (version !== 'beta') throw bad(`Resource '${resource}' is not supported for change notifications in API version ${version}.`);
	if (!MEETING_PERMISSIONS.some((permission) => caller.roles.includes(permission))) {
		throw new GraphHttpError(
			403,
			'ExtensionError',
			'Operation: Create; Exception: [Status Code: Forbidden; Reason: The request is not authorized for this user or application.]',
		);
	}
	const joinUrl = joinUrlOfSubscriptionResource(resource);
	if (!meetings.hasAccessPolicy(caller.appid)) throw new GraphHttpError(403, 'ExtensionError', NO_ACCESS_POLICY_MESSAGE);
	if (!meetings.find(joinUrl)) {
		throw new GraphHttpError(404, 'ExtensionError', `Operation: Create; Exception: [Status Code: NotFound; Reason: Online meeting with joinWebUrl '${joinUrl}' was not found.]`);
	}
	const changeType = String(body.changeType);
	if (changeType !== 'updated') {
		throw bad(`ChangeType '${changeType}' is not supported for resource '${resource}'. Supported change types: updated.`);
	}
}

export type MeetingEventSpelling = 'current' | 'earlier';
export type MeetingEventKind = 'callStarted' | 'callEnded' | 'rosterUpdated';

export interface MeetingPerson {
	id: string;
	displayName: string;
	tenantId?: string;
}

export interface MeetingEventOptions {
	kind: MeetingEventKind;
	spelling?: MeetingEventSpelling;
	/** ISO time of the event (default now). */
	eventDateTime?: string;
	joined?: MeetingPerson[];
	left?: MeetingPerson[];
	/** Merged last: add fields, or set one to undefined to drop it. */
	extra?: Record<string, unknown>;
}

const EARLIER_TYPES: Record<MeetingEventKind, string> = {
	callStarted: 'Microsoft.Communication.CallStarted',
	callEnded: 'Microsoft.Communication.CallEnded',
	rosterUpdated: 'Microsoft.Communication.CallRosterUpdate',
};

/** The event as Graph puts it in a notification, in the current spelling or the earlier one. */
export function buildMeetingCallEvent(options: MeetingEventOptions, tenantId = ''): Record<string, unknown> {
	const eventDateTime = options.eventDateTime ?? new Date().toISOString();
	const id = newGuid();
	let event: Record<string, unknown>;
	if ((options.spelling ?? 'current') === 'current') {
		event = {
			'@odata.type': '#microsoft.graph.callEvent',
			id,
			eventType: options.kind,
			eventDateTime,
		};
		if (options.kind === 'rosterUpdated') {
			event['participants@delta'] = [
				...(options.joined ?? []).map((person) => ({
					id: newGuid(),
					info: { identity: { user: { id: person.id, displayName: person.displayName, tenantId: person.tenantId ?? tenantId } } },
					isInLobby: false,
				})),
				...(options.left ?? []).map((person) => ({
					id: newGuid(),
					info: { identity: { user: { id: person.id, displayName: person.displayName, tenantId: person.tenantId ?? tenantId } } },
					removedState: { reason: 'left' },
				})),
			];
		}
	} else {
		event = {
			'@odata.type': '#Microsoft.Graph.meetingCallEvent',
			id,
			eventType: EARLIER_TYPES[options.kind],
			eventDateTime,
		};
		if (options.kind === 'rosterUpdated') {
			const active = (person: MeetingPerson) => ({
				id: newGuid(),
				identity: { User: { Id: person.id, DisplayName: person.displayName, TenantId: person.tenantId ?? tenantId } },
			});
			event['activeParticipants@joined'] = (options.joined ?? []).map(active);
			event['activeParticipants@exited'] = (options.left ?? []).map(active);
		}
	}
	for (const [key, value] of Object.entries(options.extra ?? {})) {
		if (value === undefined) delete event[key];
		else event[key] = value;
	}
	return event;
}

export type BasicMeetingNotification = Omit<ChangeNotificationItem, 'encryptedContent'> & { encryptedContent?: undefined };

/**
 * One notification for a meeting's subscription: rich (the event encrypted, resourceData with its type and
 * ID only) when the subscription includes resource data, basic (the event's fields in resourceData)
 * otherwise or when `basic` is asked for.
 */
export function meetingNotificationFor(
	subscription: SubscriptionLike,
	event: Record<string, unknown>,
	options: { basic?: boolean; overrides?: Record<string, unknown> } = {},
): ChangeNotificationItem | BasicMeetingNotification {
	const basic = options.basic === true || !subscription.encryptionCertificate;
	const item: Record<string, unknown> = {
		id: newGuid(),
		subscriptionId: subscription.id,
		subscriptionExpirationDateTime: subscription.expirationDateTime,
		changeType: 'updated',
		resource: subscription.resource,
		clientState: subscription.clientState,
		tenantId: subscription.tenantId,
		resourceData: basic ? { ...event } : { '@odata.type': event['@odata.type'], '@odata.id': event['@odata.id'], id: event.id },
	};
	if (!basic) item.encryptedContent = encryptForSubscription(subscription, event);
	for (const [key, value] of Object.entries(options.overrides ?? {})) {
		if (value === undefined) delete item[key];
		else item[key] = value;
	}
	return item as ChangeNotificationItem;
}
