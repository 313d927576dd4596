import { createHash } from 'node:crypto';

import {
	CALL_RECORDS_RESOURCE_MAX_LENGTH,
	callRecordIdOf,
	callRecordsSlotKey,
	callRecordsTargets,
} from '../../../lib/subscriptions/callSources';
import { readSubscriptionState } from '../../../lib/subscriptions/subscriptionState';
import { settingsKey, validateSettings } from '../../../lib/subscriptions/subscriptionSettings';

const id = (n: number) => `${String(n).padStart(8, '0')}-aaaa-4bbb-8ccc-000000000000`;

describe('call-records targets', () => {
	it('is the whole tenant without users', () => {
		expect(callRecordsTargets([])).toEqual([{ resource: 'communications/callRecords', target: { kind: 'callRecords', participantIds: [] } }]);
	});

	it('filters on the users with the in form, lower case and without repeats', () => {
		const upper = id(1).toUpperCase();
		expect(callRecordsTargets([upper, id(1), id(2)])).toEqual([
			{
				resource: `communications/callRecords?$filter=participants/any(p:p/id in ('${id(1)}','${id(2)}'))`,
				target: { kind: 'callRecords', participantIds: [id(1), id(2)] },
			},
		]);
	});

	it('splits so that every resource stays within the limit, and no chunk could take one more user', () => {
		const ids = Array.from({ length: 200 }, (_, n) => id(n));
		const targets = callRecordsTargets(ids);
		expect(targets.length).toBeGreaterThan(3);
		expect(targets.flatMap((t) => t.target.participantIds)).toEqual(ids);
		for (const [index, { resource }] of targets.entries()) {
			expect(resource.length).toBeLessThanOrEqual(CALL_RECORDS_RESOURCE_MAX_LENGTH);
			if (index < targets.length - 1) expect(resource.length + `,'${id(0)}'`.length).toBeGreaterThan(CALL_RECORDS_RESOURCE_MAX_LENGTH);
		}
	});

	it('keys a slot by its participants, never with an empty key', () => {
		const [{ target }] = callRecordsTargets([id(1)]);
		expect(callRecordsSlotKey(target)).toMatch(/^callRecords:[0-9a-f]{16}$/);
		expect(callRecordsSlotKey({ kind: 'callRecords', participantIds: [] })).toBe('callRecords:tenant');
	});

	it('reads a record ID only from a record resource', () => {
		expect(callRecordIdOf(`communications/callRecords/${id(3)}`)).toBe(id(3));
		expect(callRecordIdOf(`/communications/callRecords/${id(3)}`)).toBe(id(3));
		expect(callRecordIdOf(`communications/callRecords/${id(3)}/sessions`)).toBeUndefined();
		expect(callRecordIdOf(`communications/callRecords/a?b`)).toBeUndefined();
		expect(callRecordIdOf(`users/${id(3)}/callConversations`)).toBeUndefined();
		expect(callRecordIdOf(42)).toBeUndefined();
	});
});

describe('saved state of workflows from before sources existed', () => {
	it('keeps the settings key of call-events settings exactly as it was computed before', () => {
		const settings = validateSettings({ users: ['a@x', 'b'], resourceTemplate: 'users/{id}/callConversations', lifetimeMinutes: 60, apiVersion: 'beta' });
		const before = createHash('sha256').update(JSON.stringify([settings.users, settings.resourceTemplate, settings.apiVersion])).digest('hex').slice(0, 32);
		expect(settingsKey(settings)).toBe(before);
	});

	it('gives call records their own settings key, which changes with the events', () => {
		const records = validateSettings({ users: ['a@x'], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: '', source: 'callRecords', changeType: 'created' });
		const events = validateSettings({ users: ['a@x'], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: '' });
		expect(settingsKey(records)).not.toBe(settingsKey(events));
		expect(settingsKey({ ...records, changeType: 'created,updated' })).not.toBe(settingsKey(records));
	});

	it('reads a state saved without source or slot targets', () => {
		const saved = {
			teamsCallSubscriptions: {
				version: 1,
				activationId: 'abc',
				notificationUrl: 'https://n8n.example/webhook/x/notify',
				lifecycleUrl: 'https://n8n.example/webhook/x/notify',
				apiVersion: 'beta',
				lifetimeMinutes: 1440,
				settingsKey: 'k',
				slots: [{ userId: id(1), user: 'adele@contoso.test', resource: `users/${id(1)}/callConversations`, clientState: 's', subscriptionId: 'sub' }],
			},
		};
		const state = readSubscriptionState(saved);
		expect(state?.source).toBeUndefined();
		expect(state?.slots[0].target).toBeUndefined();
	});
});

describe('call-records settings', () => {
	it('allow no user, up to 4,230 minutes, and always use v1.0', () => {
		expect(validateSettings({ users: [], resourceTemplate: 'x', lifetimeMinutes: 4230, apiVersion: 'beta', source: 'callRecords', changeType: 'created' })).toEqual({
			users: [],
			resourceTemplate: '',
			lifetimeMinutes: 4230,
			apiVersion: 'v1.0',
			source: 'callRecords',
			changeType: 'created',
		});
		expect(() => validateSettings({ users: [], resourceTemplate: '', lifetimeMinutes: 4231, apiVersion: '', source: 'callRecords', changeType: 'created' })).toThrow(/1 to 4230 minutes/);
		expect(() => validateSettings({ users: [], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: '', source: 'callRecords', changeType: '' })).toThrow(/Choose at least one event/);
	});
});

describe('the Filter choice for call records', () => {
	const settings = (extra: Record<string, unknown> = {}) =>
		validateSettings({ users: ['a@x', id(2)], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: '', source: 'callRecords', changeType: 'created', ...extra });

	it('"After Reading": one tenant-wide subscription that keeps the watched users, whatever their number', () => {
		const ids = Array.from({ length: 200 }, (_, n) => id(n));
		const targets = callRecordsTargets([id(1).toUpperCase(), ...ids], 'afterReading');
		expect(targets).toEqual([
			{ resource: 'communications/callRecords', target: { kind: 'callRecords', participantIds: [], keptParticipantIds: [id(1), ...ids.filter((i) => i !== id(1))] } },
		]);
		expect(callRecordsSlotKey(targets[0].target)).toMatch(/^callRecords:kept:[0-9a-f]{16}$/);
		expect(callRecordsTargets([], 'afterReading')).toEqual(callRecordsTargets([]));
	});

	it('"In Graph" (and no choice, as in workflows saved before it) keeps the settings key computed before the choice existed', () => {
		const before = createHash('sha256').update(JSON.stringify([['a@x', id(2)], 'callRecords', 'created'])).digest('hex').slice(0, 32);
		expect(settingsKey(settings())).toBe(before);
		expect(settingsKey(settings({ callRecordsFilter: 'inGraph' }))).toBe(before);
		expect(settings({ callRecordsFilter: 'inGraph' })).toEqual(settings());
	});

	it('"After Reading" has its own settings key (so the next activation makes its subscription), except without users', () => {
		expect(settingsKey(settings({ callRecordsFilter: 'afterReading' }))).not.toBe(settingsKey(settings()));
		const tenant = (filter: string) => validateSettings({ users: [], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: '', source: 'callRecords', changeType: 'created', callRecordsFilter: filter as 'inGraph' });
		expect(settingsKey(tenant('afterReading'))).toBe(settingsKey(tenant('inGraph')));
	});
});
