import { authenticateNotifications } from '../../../lib/notifications/authenticateNotifications';
import {
	MalformedBatchError,
	MAX_ITEMS_PER_REQUEST,
	MAX_VALIDATION_TOKENS,
	parseNotificationBatch,
} from '../../../lib/notifications/notificationBatch';
import { callEventIdentities } from '../../../lib/sources/callEvents/callEventIdentities';

describe('parseNotificationBatch', () => {
	it('keeps object items and string tokens, and counts the rest', () => {
		expect(parseNotificationBatch({ value: [{ a: 1 }, 2, null, [], 'x', { b: 2 }], validationTokens: ['t', 3] })).toEqual({
			items: [{ a: 1 }, { b: 2 }],
			validationTokens: ['t'],
			malformedCount: 4,
			beyondCapCount: 0,
		});
	});

	it(`looks at no more than ${MAX_ITEMS_PER_REQUEST} items and ${MAX_VALIDATION_TOKENS + 1} tokens of one request`, () => {
		const batch = parseNotificationBatch({
			value: Array.from({ length: MAX_ITEMS_PER_REQUEST + 500 }, (_, index) => ({ index })),
			validationTokens: Array.from({ length: 100 }, (_, index) => `t${index}`),
		});
		expect(batch.items).toHaveLength(MAX_ITEMS_PER_REQUEST);
		expect(batch.items[MAX_ITEMS_PER_REQUEST - 1]).toEqual({ index: MAX_ITEMS_PER_REQUEST - 1 });
		expect(batch.beyondCapCount).toBe(500);
		expect(batch.validationTokens).toHaveLength(MAX_VALIDATION_TOKENS + 1);
	});

	it.each([null, 'text', [], { value: 'x' }, { values: [] }])('refuses %j', (body) => {
		expect(() => parseNotificationBatch(body)).toThrow(MalformedBatchError);
	});
});

describe('authenticateNotifications', () => {
	const adele = { userId: 'aaaa', user: 'adele', resource: 'users/aaaa/callConversations', clientState: 'state-a', subscriptionId: 'sub-a' };
	const bianca = { userId: 'bbbb', user: 'bianca', resource: 'users/bbbb/callConversations', clientState: 'state-b', subscriptionId: 'sub-b' };

	it('matches by subscription ID and checks that subscription\'s clientState', () => {
		const { accepted, rejected } = authenticateNotifications(
			[
				{ subscriptionId: 'sub-a', clientState: 'state-a' },
				{ subscriptionId: 'sub-a', clientState: 'state-b' },
				{ subscriptionId: 'sub-b', clientState: 'state-b' },
			],
			[adele, bianca],
		);
		expect(accepted.map((entry) => entry.slot.user)).toEqual(['adele', 'bianca']);
		expect(rejected).toBe(1);
	});

	it('accepts an unknown subscription ID only with the clientState of the user the item is about', () => {
		const { accepted } = authenticateNotifications(
			[
				{ subscriptionId: 'new-a', clientState: 'state-a', resource: 'Users/AAAA/callConversations' },
				{ subscriptionId: 'new-x', clientState: 'state-a', resource: 'users/bbbb/callConversations' },
				{ subscriptionId: 'new-y', clientState: 'state-b', lifecycleEvent: 'reauthorizationRequired' },
			],
			[adele, bianca],
		);
		expect(accepted.map((entry) => [entry.item.subscriptionId, entry.slot.user])).toEqual([
			['new-a', 'adele'],
			['new-y', 'bianca'],
		]);
	});

	it('accepts an unknown subscription ID for the one user whose clientState it carries, among many users', () => {
		const slots = Array.from({ length: 50 }, (_, index) => ({
			userId: `u${index}`,
			user: `user ${index}`,
			resource: `users/u${index}/callConversations`,
			clientState: `state-${index}`,
			subscriptionId: `sub-${index}`,
		}));
		const { accepted, rejected } = authenticateNotifications(
			[
				{ subscriptionId: 'new-37', clientState: 'state-37', resource: 'users/u37/callConversations' },
				{ subscriptionId: 'new-x', clientState: 'state-37', resource: 'users/u12/callConversations' },
				{ subscriptionId: 'new-y', clientState: 'guess', resource: 'users/u37/callConversations' },
			],
			slots,
		);
		expect(accepted.map((entry) => entry.slot.user)).toEqual(['user 37']);
		expect(rejected).toBe(2);
	});

	it('sees a slot changed in place (a new subscription ID or clientState) on the next call', () => {
		const slots = [{ ...adele }];
		expect(authenticateNotifications([{ subscriptionId: 'sub-a', clientState: 'state-a' }], slots).accepted).toHaveLength(1);
		slots[0].clientState = 'state-a2';
		slots[0].subscriptionId = 'sub-a2';
		expect(authenticateNotifications([{ subscriptionId: 'sub-a', clientState: 'state-a' }], slots).accepted).toHaveLength(0);
		expect(authenticateNotifications([{ subscriptionId: 'sub-a2', clientState: 'state-a2' }], slots).accepted).toHaveLength(1);
	});

	it('rejects items without string subscriptionId and clientState', () => {
		const { accepted, rejected } = authenticateNotifications(
			[{ clientState: 'state-a' }, { subscriptionId: 'sub-a' }, { subscriptionId: 'sub-a', clientState: ['state-a'] }],
			[adele],
		);
		expect(accepted).toEqual([]);
		expect(rejected).toBe(3);
	});
});

describe('callEventIdentities', () => {
	const notification = { subscriptionId: 's', resource: 'users/u/callConversations', id: 'n1' };
	const at = (eventDateTime: string, callId = 'c1') => ({ callId, eventDateTime });
	const shareAny = (a: string[], b: string[]) => a.some((identity) => b.includes(identity));

	it('names a redelivery by its notification ID', () => {
		expect(shareAny(callEventIdentities(notification, { callId: 'c1' }, 'callStarted'), callEventIdentities(notification, { callId: 'c1' }, 'callStarted'))).toBe(true);
	});

	it('keeps a rejoin of the same call (a new notification) a second event', () => {
		const first = callEventIdentities(notification, { callId: 'c1' }, 'callStarted');
		expect(shareAny(first, callEventIdentities({ ...notification, id: 'n2' }, { callId: 'c1' }, 'callStarted'))).toBe(false);
		const earlier = callEventIdentities({ ...notification, id: 'n3' }, at('2026-12-01T10:00:00Z'), 'callStarted');
		expect(shareAny(earlier, callEventIdentities({ ...notification, id: 'n4' }, at('2026-12-01T10:05:00Z'), 'callStarted'))).toBe(false);
	});

	it('recognises the same event re-sent under a new notification ID by its call and event time', () => {
		const first = callEventIdentities(notification, at('2026-12-01T10:00:00Z'), 'callStarted');
		expect(shareAny(first, callEventIdentities({ ...notification, id: 'n2' }, at('2026-12-01T10:00:00Z'), 'callStarted'))).toBe(true);
		expect(shareAny(first, callEventIdentities({ ...notification, id: 'n3' }, at('2026-12-01T10:00:00Z'), 'callEnded'))).toBe(false);
		expect(shareAny(first, callEventIdentities({ ...notification, id: 'n4' }, at('2026-12-01T10:00:00Z', 'c2'), 'callStarted'))).toBe(false);
	});

	it('names a rich notification without ID or event time by its sealed content, which a redelivery repeats', () => {
		const sealed = (dataSignature: string) => ({ ...notification, id: undefined, encryptedContent: { data: 'x', dataKey: 'y', dataSignature } });
		const first = callEventIdentities(sealed('sig-1'), { callId: 'c1' }, 'callStarted');
		expect(first).toHaveLength(1);
		expect(callEventIdentities(sealed('sig-1'), { callId: 'c1' }, 'callStarted')).toEqual(first);
		expect(shareAny(first, callEventIdentities(sealed('sig-2'), { callId: 'c1' }, 'callStarted'))).toBe(false);
	});

	it('gives none for a basic notification without ID or event time', () => {
		expect(callEventIdentities({ ...notification, id: undefined }, { callId: 'c1' }, 'callStarted')).toEqual([]);
		expect(callEventIdentities({ ...notification, id: '' }, { callId: 'c1', eventDateTime: 7 }, 'callStarted')).toEqual([]);
	});
});
