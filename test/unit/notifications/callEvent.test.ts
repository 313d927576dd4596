import { eventTypeOf, normaliseDirection, normaliseEventType } from '../../../lib/notifications/callEvent';
import { callEventItem } from '../../../lib/notifications/callEventItem';

describe('normaliseEventType', () => {
	it.each([
		['{Microsoft.Communication.CallConversationStarted}', 'callStarted'],
		['Microsoft.Communication.CallConversationStarted', 'callStarted'],
		['{Microsoft.Communication.CallConversationEnded}', 'callEnded'],
		['Microsoft.Communication.CallEventType.CallStarted', 'callStarted'],
		['Microsoft.Communication.CallEventType.CallEnded', 'callEnded'],
		['callStarted', 'callStarted'],
		['callEnded', 'callEnded'],
		[' { CALLSTARTED } ', 'callStarted'],
		['rosterUpdated', 'unknown'],
		['unknownFutureValue', 'unknown'],
		['Microsoft.Communication.CallConversationStartedish', 'unknown'],
		['', 'unknown'],
		[42, 'unknown'],
		[null, 'unknown'],
		[{ value: 'callStarted' }, 'unknown'],
	])('%j → %s', (value, expected) => {
		expect(normaliseEventType(value)).toBe(expected);
	});
});

describe('normaliseDirection', () => {
	it.each([
		['incoming', 'incoming'],
		['{incoming}', 'incoming'],
		['Outgoing', 'outgoing'],
		['microsoft.graph.callDirection.outgoing', 'outgoing'],
		['{incoming/outgoing}', 'unknown'],
		['sideways', 'unknown'],
		[undefined, 'unknown'],
		[7, 'unknown'],
	])('%j → %s', (value, expected) => {
		expect(normaliseDirection(value)).toBe(expected);
	});
});

describe('callEventItem', () => {
	const slot = { userId: 'u1', user: 'adele@contoso.test', resource: 'users/u1/callConversations', clientState: 'secret-state' };
	const notification = {
		subscriptionId: 's1',
		clientState: 'secret-state',
		changeType: 'updated',
		resource: 'users/u1/callConversations',
		tenantId: 't1',
	};

	it('reads the released resource\'s callEventType and joinCallUrl as well as the drafts\' fields', () => {
		const item = callEventItem(notification, { callEventType: 'callEnded', direction: 'incoming', joinCallUrl: 'https://join' }, slot, 'now', false);
		expect(item).toMatchObject({ event: 'callEnded', csUrl: 'https://join', callId: null });
		expect(eventTypeOf({ eventType: 'a', callEventType: 'b' })).toBe('a');
	});

	it('keeps the original values of what it cannot classify', () => {
		const item = callEventItem(notification, { eventType: 'CallParked', direction: 'both' }, slot, 'now', false);
		expect(item).toMatchObject({ event: 'unknown', originalEventType: 'CallParked', direction: 'unknown', originalDirection: 'both' });
	});

	it('never copies the clientState into the raw notification', () => {
		const item = callEventItem(notification, { eventType: 'callStarted' }, slot, 'now', true);
		expect(item.rawNotification).toEqual({ subscriptionId: 's1', changeType: 'updated', resource: notification.resource, tenantId: 't1' });
		expect(notification.clientState).toBe('secret-state');
	});
});
