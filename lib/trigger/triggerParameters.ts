import type { IDataObject, IExecuteFunctions, IHookFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

import type { CallDirection, CallEventKind } from '../notifications/callEvent';
import { CALL_RECORDS_MAX_LIFETIME_MINUTES, type CallSource } from '../subscriptions/callSources';
import {
	DEFAULT_RESOURCE_TEMPLATE,
	MAX_LIFETIME_MINUTES,
	validateSettings,
	type SubscriptionSettings,
} from '../subscriptions/subscriptionSettings';

type NodeContext = IHookFunctions | IWebhookFunctions | ITriggerFunctions | IExecuteFunctions;

export type CallRecordEvent = 'callEnded' | 'callRecordUpdated';

/** How long a notified record that Graph answers 404 for is asked for again, by default. */
export const DEFAULT_RECORD_WAIT_SECONDS = 300;

export interface CallRecordParameters {
	events: CallRecordEvent[];
	includeSessions: boolean;
	/** How long to keep asking Graph for a notified record that it answers 404 for (new records). */
	waitForRecordSeconds: number;
}

export interface TriggerParameters {
	source: CallSource;
	subscription: SubscriptionSettings;
	/** Only for the call-records source. */
	callRecords: CallRecordParameters;
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
	const source: CallSource = get('source', 'callEvents') === 'callRecords' ? 'callRecords' : 'callEvents';
	if (source === 'callRecords') return readCallRecordsParameters(get);
	const options = (get('options', {}) ?? {}) as IDataObject;
	return {
		source,
		callRecords: { events: [], includeSessions: false, waitForRecordSeconds: DEFAULT_RECORD_WAIT_SECONDS },
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
	return {
		source: 'callRecords',
		subscription: validateSettings({
			users: usersParameter(get('recordUsers', [])),
			resourceTemplate: '',
			lifetimeMinutes: Number(options.lifetimeMinutes ?? CALL_RECORDS_MAX_LIFETIME_MINUTES),
			apiVersion: 'v1.0',
			source: 'callRecords',
			changeType,
		}),
		callRecords: {
			events,
			includeSessions: options.includeSessions === true,
			waitForRecordSeconds: Number.isFinite(wait) && wait >= 0 ? Math.min(wait, 3600) : DEFAULT_RECORD_WAIT_SECONDS,
		},
		events: [],
		directions: [],
		includeRawNotification: options.includeRawNotification === true,
		emitMissedNotifications: false,
		// Basic notifications carry no validation tokens: a record is believed only once Graph returns it.
		skipValidationTokenCheck: true,
	};
}
