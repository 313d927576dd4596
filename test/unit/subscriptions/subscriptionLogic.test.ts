import { isRenewalDue } from '../../../lib/subscriptions/ensureSubscription';
import { GraphApiError } from '../../../lib/graph/graphApiError';
import { RenewalHealth } from '../../../lib/subscriptions/renewalHealth';
import {
	resourceFor,
	sameResource,
	settingsKey,
	validateSettings,
} from '../../../lib/subscriptions/subscriptionSettings';
import {
	readSubscriptionState,
	writeSubscriptionState,
	type SubscriptionState,
} from '../../../lib/subscriptions/subscriptionState';

const state: SubscriptionState = {
	version: 1,
	activationId: 'act',
	notificationUrl: 'https://n8n.test/webhook/x/notify',
	lifecycleUrl: 'https://n8n.test/webhook/x/lifecycle',
	apiVersion: 'beta',
	lifetimeMinutes: 60,
	settingsKey: 'k',
	slots: [{ userId: 'u', user: 'u@x', resource: 'users/u/callConversations', clientState: 'cs', subscriptionId: 's', expiresAt: '2026-01-01T01:00:00.000Z', renewedAt: '2026-01-01T00:00:00.000Z' }],
};

describe('subscription state in static data', () => {
	it('round-trips, and writes a copy rather than the caller\'s object', () => {
		const staticData = {};
		writeSubscriptionState(staticData, state);
		expect(readSubscriptionState(staticData)).toEqual(state);
		state.slots[0].user = 'changed';
		expect(readSubscriptionState(staticData)?.slots[0].user).toBe('u@x');
		state.slots[0].user = 'u@x';
		writeSubscriptionState(staticData, undefined);
		expect(readSubscriptionState(staticData)).toBeUndefined();
	});

	it.each([
		['another version', { ...state, version: 2 }],
		['slots that are not an array', { ...state, slots: {} }],
		['a slot without clientState', { ...state, slots: [{ ...state.slots[0], clientState: '' }] }],
		['no lifetime', { ...state, lifetimeMinutes: undefined }],
	])('ignores saved state with %s', (_, saved) => {
		expect(readSubscriptionState({ teamsCallSubscriptions: saved as never })).toBeUndefined();
	});
});

describe('isRenewalDue', () => {
	const slot = state.slots[0];
	it('is due from half the granted lifetime on', () => {
		expect(isRenewalDue(slot, state, new Date('2026-01-01T00:29:59.000Z'))).toBe(false);
		expect(isRenewalDue(slot, state, new Date('2026-01-01T00:30:00.000Z'))).toBe(true);
	});

	it('is due for a slot without a subscription', () => {
		expect(isRenewalDue({ ...slot, subscriptionId: undefined }, state, new Date('2026-01-01T00:00:00.000Z'))).toBe(true);
	});

	it('uses the configured lifetime when the grant time is unknown', () => {
		const unknownGrant = { ...slot, renewedAt: undefined };
		expect(isRenewalDue(unknownGrant, state, new Date('2026-01-01T00:29:00.000Z'))).toBe(false);
		expect(isRenewalDue(unknownGrant, state, new Date('2026-01-01T00:31:00.000Z'))).toBe(true);
	});
});

describe('subscription settings', () => {
	it('trims, de-duplicates and defaults', () => {
		expect(validateSettings({ users: [' a@x ', 'a@x', '', 'b'], resourceTemplate: '/users/{id}/callConversations', lifetimeMinutes: 90.7, apiVersion: '' })).toEqual({
			users: ['a@x', 'b'],
			resourceTemplate: 'users/{id}/callConversations',
			lifetimeMinutes: 90,
			apiVersion: 'beta',
		});
	});

	it.each([
		[{ users: [] }, /at least one user/],
		[{ resourceTemplate: 'users/me/calls' }, /must contain \{id\}/],
		[{ lifetimeMinutes: 0 }, /1 to 1440 minutes/],
		[{ lifetimeMinutes: 1441 }, /1 to 1440 minutes/],
		[{ apiVersion: 'v2.0' }, /beta or v1.0/],
	])('explains %j', (override, message) => {
		expect(() => validateSettings({ users: ['a'], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: 'beta', ...override })).toThrow(message);
	});

	it('fills the template and compares resources as Graph spells them', () => {
		expect(resourceFor('users/{id}/communications/callEvents', 'u1')).toBe('users/u1/communications/callEvents');
		expect(sameResource('/user/U1/callConversations', 'users/u1/callConversations')).toBe(true);
		expect(sameResource('users/u2/callConversations', 'users/u1/callConversations')).toBe(false);
	});

	it('keys settings by what changes the subscriptions, not by lifetime', () => {
		const base = { users: ['a'], resourceTemplate: 'users/{id}/x', lifetimeMinutes: 60, apiVersion: 'beta' };
		expect(settingsKey({ ...base, lifetimeMinutes: 30 })).toBe(settingsKey(base));
		expect(settingsKey({ ...base, users: ['b'] })).not.toBe(settingsKey(base));
	});
});

describe('RenewalHealth', () => {
	const slot = { ...state.slots[0], expiresAt: '2026-01-01T01:00:00.000Z' };
	const at = (iso: string) => new Date(iso);

	it('backs off exponentially and honours Retry-After', () => {
		const health = new RenewalHealth();
		health.recordFailure(slot, state, new Error('x'), at('2026-01-01T00:00:00.000Z'));
		expect(health.canAttempt(slot.user, at('2026-01-01T00:00:29.000Z'))).toBe(false);
		expect(health.canAttempt(slot.user, at('2026-01-01T00:00:30.000Z'))).toBe(true);
		health.recordFailure(slot, state, new GraphApiError('PATCH', '/x', 429, 'TooManyRequests', 'slow', 300), at('2026-01-01T00:00:30.000Z'));
		expect(health.canAttempt(slot.user, at('2026-01-01T00:05:29.000Z'))).toBe(false);
		expect(health.canAttempt(slot.user, at('2026-01-01T00:05:30.000Z'))).toBe(true);
		health.recordSuccess(slot.user);
		expect(health.failuresOf(slot.user)).toBe(0);
	});

	it('reports the third failure, or the first one close to expiry, then stays quiet for an hour', () => {
		const health = new RenewalHealth();
		expect(health.recordFailure(slot, state, new Error('x'), at('2026-01-01T00:30:00.000Z'))).toBe(false);
		expect(health.recordFailure(slot, state, new Error('x'), at('2026-01-01T00:31:00.000Z'))).toBe(false);
		expect(health.recordFailure(slot, state, new Error('x'), at('2026-01-01T00:32:00.000Z'))).toBe(true);
		expect(health.recordFailure(slot, state, new Error('x'), at('2026-01-01T00:50:00.000Z'))).toBe(false);
		const nearExpiry = new RenewalHealth();
		expect(nearExpiry.recordFailure(slot, state, new Error('x'), at('2026-01-01T00:46:00.000Z'))).toBe(true);
	});
});
