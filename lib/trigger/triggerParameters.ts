import type { IDataObject, IExecuteFunctions, IHookFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

import type { CallDirection, CallEventKind } from '../notifications/callEvent';
import {
	DEFAULT_RESOURCE_TEMPLATE,
	MAX_LIFETIME_MINUTES,
	validateSettings,
	type SubscriptionSettings,
} from '../subscriptions/subscriptionSettings';

type NodeContext = IHookFunctions | IWebhookFunctions | ITriggerFunctions | IExecuteFunctions;

export interface TriggerParameters {
	subscription: SubscriptionSettings;
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
	const options = (get('options', {}) ?? {}) as IDataObject;
	return {
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
