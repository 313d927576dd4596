import { createHash } from 'node:crypto';

import { meetingJoinUrl, MeetingJoinUrlError } from '../meetings/meetingJoinUrl';
import { CALL_RECORDS_MAX_LIFETIME_MINUTES, MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES, type CallRecordsFilter, type CallSource } from './callSources';

export const DEFAULT_RESOURCE_TEMPLATE = 'users/{id}/callConversations';
export const MAX_LIFETIME_MINUTES = 1440;
const USER_ID_PLACEHOLDER = /\{id\}/gi;

/** What the workflow author chose, as the subscription code needs it. */
export interface SubscriptionSettings {
	users: string[];
	resourceTemplate: string;
	lifetimeMinutes: number;
	apiVersion: string;
	/** Absent: call events (the preview), as in every workflow saved before sources existed. */
	source?: CallSource;
	/** Call records: 'created', 'updated' or 'created,updated'. Meeting call events: 'updated'. */
	changeType?: string;
	/** Call records with users listed: absent means 'inGraph' (the filter on the subscription), as before the choice. */
	callRecordsFilter?: CallRecordsFilter;
}

export class SubscriptionSettingsError extends Error {
	override name = 'SubscriptionSettingsError';
}

export function validateSettings(settings: SubscriptionSettings): SubscriptionSettings {
	if (settings.source === 'callRecords') return validateCallRecordsSettings(settings);
	if (settings.source === 'meetingCallEvents') return validateMeetingSettings(settings);
	const users = [...new Set(settings.users.map((user) => user.trim()).filter(Boolean))];
	if (users.length === 0) {
		throw new SubscriptionSettingsError('Add at least one user to watch (object ID or user principal name)');
	}
	// The placeholder in any case ({id}, {ID}, {Id}) stands for the user's object ID.
	const resourceTemplate =
		settings.resourceTemplate.trim().replace(/^\/+/, '').replace(USER_ID_PLACEHOLDER, '{id}') || DEFAULT_RESOURCE_TEMPLATE;
	if (!resourceTemplate.includes('{id}')) {
		throw new SubscriptionSettingsError(
			`The resource path "${resourceTemplate}" must contain {id} where the user's object ID goes, like ${DEFAULT_RESOURCE_TEMPLATE}`,
		);
	}
	const lifetimeMinutes = Math.floor(settings.lifetimeMinutes);
	if (!(lifetimeMinutes >= 1 && lifetimeMinutes <= MAX_LIFETIME_MINUTES)) {
		throw new SubscriptionSettingsError(
			`The subscription lifetime must be 1 to ${MAX_LIFETIME_MINUTES} minutes (Graph allows at most one day for call events)`,
		);
	}
	const apiVersion = settings.apiVersion.trim() || 'beta';
	if (!/^(v1\.0|beta)$/.test(apiVersion)) {
		throw new SubscriptionSettingsError('The Graph API version must be beta or v1.0');
	}
	return { users, resourceTemplate, lifetimeMinutes, apiVersion };
}

/** Call records: users are optional (none: the whole tenant), Graph allows 4,230 minutes, v1.0 only. */
function validateCallRecordsSettings(settings: SubscriptionSettings): SubscriptionSettings {
	const users = [...new Set(settings.users.map((user) => user.trim()).filter(Boolean))];
	const lifetimeMinutes = Math.floor(settings.lifetimeMinutes);
	if (!(lifetimeMinutes >= 1 && lifetimeMinutes <= CALL_RECORDS_MAX_LIFETIME_MINUTES)) {
		throw new SubscriptionSettingsError(
			`The subscription lifetime must be 1 to ${CALL_RECORDS_MAX_LIFETIME_MINUTES} minutes (Graph allows at most 4,230 minutes for call records)`,
		);
	}
	const changeType = settings.changeType ?? '';
	if (!/^(created|updated|created,updated)$/.test(changeType)) {
		throw new SubscriptionSettingsError('Choose at least one event: Call Ended or Call Record Updated');
	}
	// Without users there is nothing to filter: the whole tenant either way.
	const afterReading = settings.callRecordsFilter === 'afterReading' && users.length > 0;
	return {
		users,
		resourceTemplate: '',
		lifetimeMinutes,
		apiVersion: 'v1.0',
		source: 'callRecords',
		changeType,
		...(afterReading ? { callRecordsFilter: 'afterReading' as const } : {}),
	};
}

/**
 * Meeting call events: `users` holds the meetings' join URLs, each checked and cleaned (Safe Links removed);
 * Graph serves them on beta only and allows 3 days.
 */
function validateMeetingSettings(settings: SubscriptionSettings): SubscriptionSettings {
	const entered = settings.users.map((entry) => entry.trim()).filter(Boolean);
	if (entered.length === 0) throw new SubscriptionSettingsError('Add at least one Meeting Join URL to watch');
	const joinUrls: string[] = [];
	for (const [index, entry] of entered.entries()) {
		try {
			joinUrls.push(meetingJoinUrl(entry));
		} catch (error) {
			if (!(error instanceof MeetingJoinUrlError)) throw error;
			throw new SubscriptionSettingsError(`Meeting Join URL ${index + 1}: ${error.message}`);
		}
	}
	const lifetimeMinutes = Math.floor(settings.lifetimeMinutes);
	if (!(lifetimeMinutes >= 1 && lifetimeMinutes <= MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES)) {
		throw new SubscriptionSettingsError(
			`The subscription lifetime must be 1 to ${MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES} minutes (Graph allows at most 3 days for meeting call events)`,
		);
	}
	return {
		users: [...new Set(joinUrls)],
		resourceTemplate: '',
		lifetimeMinutes,
		apiVersion: 'beta',
		source: 'meetingCallEvents',
		changeType: 'updated',
	};
}

export function resourceFor(template: string, userId: string): string {
	return template.split('{id}').join(userId);
}

/** Graph may echo a resource with another case, a leading slash, or "user/" for "users/". */
export function sameResource(a: string, b: string): boolean {
	const normalise = (resource: string) =>
		resource.trim().replace(/^\/+/, '').replace(/^user\//i, 'users/').toLowerCase();
	return normalise(a) === normalise(b);
}

export function settingsKey(settings: SubscriptionSettings): string {
	// Call events hash exactly what they hashed before sources existed, and call records with the Graph filter what
	// they hashed before the Filter choice: their saved state stays current.
	const fields =
		settings.source === 'callRecords'
			? [settings.users, 'callRecords', settings.changeType, ...(settings.callRecordsFilter === 'afterReading' ? ['afterReading'] : [])]
			: settings.source === 'meetingCallEvents'
				? [settings.users, 'meetingCallEvents']
				: [settings.users, settings.resourceTemplate, settings.apiVersion];
	return createHash('sha256')
		.update(JSON.stringify(fields))
		.digest('hex')
		.slice(0, 32);
}
