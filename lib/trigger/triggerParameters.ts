import type { IDataObject, IExecuteFunctions, IHookFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

import type { CallDirection, CallEventKind } from '../notifications/callEvent';
import {
	CALL_RECORDS_MAX_LIFETIME_MINUTES,
	MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES,
	type CallSource,
} from '../subscriptions/callSources';
import {
	DEFAULT_RESOURCE_TEMPLATE,
	MAX_LIFETIME_MINUTES,
	validateSettings,
	type SubscriptionSettings,
} from '../subscriptions/subscriptionSettings';

type NodeContext = IHookFunctions | IWebhookFunctions | ITriggerFunctions | IExecuteFunctions;

export type CallRecordEvent = 'callEnded' | 'callRecordUpdated';
export type MeetingEvent = 'callStarted' | 'callEnded' | 'rosterUpdated';
const MEETING_EVENTS: readonly string[] = ['callStarted', 'callEnded', 'rosterUpdated'];

/** How long a notified record that Graph answers 404 for is asked for again, by default. */
export const DEFAULT_RECORD_WAIT_SECONDS = 300;

export interface CallRecordParameters {
	events: CallRecordEvent[];
	includeSessions: boolean;
	/** How long to keep asking Graph for a notified record that it answers 404 for (new records). */
	waitForRecordSeconds: number;
	/** Whether the renewal timer sweeps recent records for ones whose notification never came. */
	recoverMissed: boolean;
}

export interface TriggerParameters {
	source: CallSource;
	subscription: SubscriptionSettings;
	/** Only for the call-records source. */
	callRecords: CallRecordParameters;
	/** Only for the meeting call events source: which events run the workflow. */
	meetingEvents: MeetingEvent[];
	events: CallEventKind[];
	directions: CallDirection[];
	includeRawNotification: boolean;
	emitMissedNotifications: boolean;
	skipValidationTokenCheck: boolean;
}

function usersParameter(value: unknown): string[] {
	// Each entry may itself hold several users separated by commas or new lines (pasted lists).
	const entries = Array.isArray(value) ? value : [value];
	return entries.flatMap((entry) => (typeof entry === 'string' ? entry.split(/[,;\s]+/) : []));
}

/** The node's parameters, validated; the single place that knows their names. */
export function readTriggerParameters(context: NodeContext): TriggerParameters {
	const get = context.getNodeParameter.bind(context) as (name: string, fallback?: unknown) => unknown;
	// Absent in workflows saved before sources existed: the preview call events, as then.
	const chosen = get('source', 'callEvents');
	const source: CallSource = chosen === 'callRecords' || chosen === 'meetingCallEvents' ? chosen : 'callEvents';
	if (source === 'callRecords') return readCallRecordsParameters(get);
	if (source === 'meetingCallEvents') return readMeetingParameters(get);
	const options = (get('options', {}) ?? {}) as IDataObject;
	return {
		source,
		callRecords: { events: [], includeSessions: false, waitForRecordSeconds: DEFAULT_RECORD_WAIT_SECONDS, recoverMissed: false },
		meetingEvents: [],
		subscription: validateSettings({
			users: usersParameter(get('users', [])),
			resourceTemplate: String(options.resourceTemplate ?? DEFAULT_RESOURCE_TEMPLATE),
			lifetimeMinutes: Number(options.lifetimeMinutes ?? MAX_LIFETIME_MINUTES),
			apiVersion: String(options.apiVersion ?? 'beta'),
		}),
		events: (get('events', ['callStarted', 'callEnded']) as CallEventKind[]) ?? [],
		directions: (get('directions', ['incoming', 'outgoing']) as CallDirection[]) ?? [],
		includeRawNotification: options.includeRawNotification === true,
		emitMissedNotifications: options.emitMissedNotifications === true,
		skipValidationTokenCheck: options.skipValidationTokenCheck === true,
	};
}

/**
 * A parameter n8n leaves out of the node while its display condition hides it (Filter without users). The
 * execute() context takes no fallback and throws "Could not get parameter" for it: undefined then.
 */
function parameterIfShown(get: (name: string, fallback?: unknown) => unknown, name: string): unknown {
	try {
		return get(name, undefined);
	} catch {
		return undefined;
	}
}

function readCallRecordsParameters(get: (name: string, fallback?: unknown) => unknown): TriggerParameters {
	const options = (get('recordOptions', {}) ?? {}) as IDataObject;
	const chosen = get('recordEvents', ['callEnded']);
	const events = (Array.isArray(chosen) ? chosen : []).filter(
		(event): event is CallRecordEvent => event === 'callEnded' || event === 'callRecordUpdated',
	);
	const changeType = [events.includes('callEnded') ? 'created' : '', events.includes('callRecordUpdated') ? 'updated' : '']
		.filter(Boolean)
		.join(',');
	const wait = Number(options.waitForRecordSeconds ?? DEFAULT_RECORD_WAIT_SECONDS);
	// Absent in workflows saved before the choice: the filter in Graph, as then.
	const subscription = validateSettings({
		users: usersParameter(get('recordUsers', [])),
		resourceTemplate: '',
		lifetimeMinutes: Number(options.lifetimeMinutes ?? CALL_RECORDS_MAX_LIFETIME_MINUTES),
		apiVersion: 'v1.0',
		source: 'callRecords',
		changeType,
		callRecordsFilter: parameterIfShown(get, 'recordFilter') === 'afterReading' ? 'afterReading' : 'inGraph',
	});
	return {
		source: 'callRecords',
		subscription,
		callRecords: {
			events,
			includeSessions: options.includeSessions === true,
			waitForRecordSeconds: Number.isFinite(wait) && wait >= 0 ? Math.min(wait, 3600) : DEFAULT_RECORD_WAIT_SECONDS,
			recoverMissed: options.recoverMissedCallRecords !== false,
		},
		meetingEvents: [],
		events: [],
		directions: [],
		includeRawNotification: options.includeRawNotification === true,
		emitMissedNotifications: false,
		// Basic notifications carry no validation tokens: a record is believed only once Graph returns it.
		skipValidationTokenCheck: true,
	};
}

/**
 * Meeting call events: each join URL is one entry (a URL may hold commas, so entries are not split), checked
 * by validateSettings. Rich notifications are verified by their validation tokens as the preview's are.
 */
function readMeetingParameters(get: (name: string, fallback?: unknown) => unknown): TriggerParameters {
	const options = (get('meetingOptions', {}) ?? {}) as IDataObject;
	const entered = get('meetingJoinUrls', []);
	const chosen = get('meetingEvents', ['callStarted', 'callEnded']);
	return {
		source: 'meetingCallEvents',
		subscription: validateSettings({
			users: (Array.isArray(entered) ? entered : [entered]).filter((entry): entry is string => typeof entry === 'string'),
			resourceTemplate: '',
			lifetimeMinutes: Number(options.lifetimeMinutes ?? MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES),
			apiVersion: 'beta',
			source: 'meetingCallEvents',
			changeType: 'updated',
		}),
		callRecords: { events: [], includeSessions: false, waitForRecordSeconds: DEFAULT_RECORD_WAIT_SECONDS, recoverMissed: false },
		meetingEvents: (Array.isArray(chosen) ? chosen : []).filter((event): event is MeetingEvent => MEETING_EVENTS.includes(event)),
		events: [],
		directions: [],
		includeRawNotification: options.includeRawNotification === true,
		emitMissedNotifications: false,
		skipValidationTokenCheck: false,
	};
}
