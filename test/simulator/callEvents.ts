import { newGuid } from './ids';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * The decrypted resource data Graph puts in a call notification. Two draft shapes exist (see
 * shared/seed/teams-call-notifications.md and graph-notifications.md §6a):
 *  - user/{id}/callConversations: "#Microsoft.Graph.CallConversation", eventType
 *    Microsoft.Communication.CallConversationStarted|Ended, direction, csUrl;
 *  - users/{id}/communications/callEvents: "#microsoft.graph.callEvent", eventType
 *    Microsoft.Communication.CallEventType.CallStarted|Ended, direction, joinCallUrl, callId.
 * The shape follows the subscription's resource; every field can be overridden so tests can send the
 * other spellings seen in the drafts.
 */
export type CallEventKind = 'started' | 'ended';

export interface CallEventOptions {
	kind: CallEventKind;
	direction?: 'incoming' | 'outgoing' | string;
	/** Correlates start and end; generated when absent, omitted when null. */
	callId?: string | null;
	/** Replaces the eventType string (e.g. 'callStarted' or the braced draft spelling). */
	eventType?: string;
	/** Merged last: add fields, or set one to undefined to drop it. */
	extra?: Record<string, unknown>;
}

export const CALL_EVENT_TYPES = {
	callConversations: {
		started: 'Microsoft.Communication.CallConversationStarted',
		ended: 'Microsoft.Communication.CallConversationEnded',
	},
	callEvents: {
		started: 'Microsoft.Communication.CallEventType.CallStarted',
		ended: 'Microsoft.Communication.CallEventType.CallEnded',
	},
} as const;

export function isCallEventsResource(resource: string): boolean {
	return /communications\/callEvents$/i.test(resource);
}

export function buildCallEvent(subscription: Pick<SubscriptionLike, 'resource'>, options: CallEventOptions): Record<string, unknown> {
	const resourcePath = `/${subscription.resource.replace(/^\/+/, '')}`;
	const callId = options.callId === undefined ? newGuid() : options.callId;
	const conversationId = `IU-j__${(callId ?? newGuid()).replace(/-/g, '').slice(0, 12)}`;
	let event: Record<string, unknown>;
	if (isCallEventsResource(subscription.resource)) {
		event = {
			'@odata.type': '#microsoft.graph.callEvent',
			'@odata.id': resourcePath,
			id: resourcePath,
			eventType: options.eventType ?? CALL_EVENT_TYPES.callEvents[options.kind],
			direction: options.direction ?? 'incoming',
			joinCallUrl: `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${conversationId}%40thread.v2/0`,
		};
	} else {
		event = {
			'@odata.type': '#Microsoft.Graph.CallConversation',
			'@odata.id': resourcePath,
			id: resourcePath,
			eventType: options.eventType ?? CALL_EVENT_TYPES.callConversations[options.kind],
			direction: options.direction ?? 'incoming',
			csUrl: `https://api.flightproxy.teams.microsoft.com/api/v2/ep/conv-jpea.conv.skype.com/conv/${conversationId}?i=7&e=12345678`,
		};
	}
	if (callId !== null) event.callId = callId;
	for (const [key, value] of Object.entries(options.extra ?? {})) {
		if (value === undefined) delete event[key];
		else event[key] = value;
	}
	return event;
}
