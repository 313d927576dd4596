import { request } from 'node:https';

import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { GraphSimulatorOptions, StoredSubscription } from '../../simulator';

/** The Call records source end to end through n8n-core's contexts, against the Graph simulator. */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca, cyril] = USERS;
let fixture: TriggerFixture;

afterEach(async () => fixture?.close());

const creates = () => fixture.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
const patches = () => fixture.sim.countRequests({ method: 'PATCH', path: /\/subscriptions\// });
const recordReads = () => fixture.sim.countRequests({ method: 'GET', path: /\/communications\/callRecords\// });
/** The simulator logs a request once its answer is flushed, which can trail the client's receipt by a moment. */
const logFlushed = () => new Promise((resolve) => setTimeout(resolve, 50));

async function activated(
	parameters: Record<string, unknown> = {},
	options: { simulator?: GraphSimulatorOptions; permissions?: string[]; withTimer?: boolean } = {},
) {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [adele.userPrincipalName, bianca.id], recordOptions: { waitForRecordSeconds: 4 }, ...parameters },
		{
			simulator: options.simulator,
			permissions: options.permissions ?? ['CallRecords.Read.All', 'User.Read.All'],
			withoutCertificateCredential: true,
		},
	);
	if (options.withTimer) await fixture.harness.startTrigger();
	await fixture.harness.activate();
	fixture.sim.clearRequests();
	return fixture;
}

const onlySubscription = () => {
	const subscriptions = fixture.sim.subscriptions();
	expect(subscriptions).toHaveLength(1);
	return subscriptions[0] as StoredSubscription;
};

function callOf(participants = [adele, bianca], extra: Parameters<TriggerFixture['sim']['addCallRecord']>[0] = {}) {
	return fixture.sim.addCallRecord({
		type: 'groupCall',
		modalities: ['audio', 'video'],
		organizer: participants[0],
		participants,
		joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
		...extra,
	});
}

function post(url: string, body: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode ?? 0));
		});
		req.on('error', reject);
		req.end(body);
	});
}

describe('activation', () => {
	it('subscribes to the watched users\' call records: basic, filtered, created only, 4,230 minutes, no certificate', async () => {
		await activated();
		const subscription = onlySubscription();
		expect(subscription).toMatchObject({
			resource: `communications/callRecords?$filter=participants/any(p:p/id in ('${adele.id}','${bianca.id}'))`,
			changeType: 'created',
			notificationUrl: fixture.harness.url('notify'),
			lifecycleNotificationUrl: fixture.harness.url('notify'),
			includeResourceData: false,
			encryptionCertificate: null,
			latestSupportedTlsVersion: 'v1_2',
		});
		expect(subscription.clientState).toMatch(/^[A-Za-z0-9_-]{64}$/);
		const lifetimeMs = Date.parse(subscription.expirationDateTime) - Date.now();
		expect(lifetimeMs).toBeGreaterThan(4229 * 60_000);
		expect(lifetimeMs).toBeLessThanOrEqual(4230 * 60_000);
		// The certificate credential is not on the node, and nothing asked for it.
		expect(fixture.harness.credentialReads.microsoftGraphNotificationCertificateApi).toBeUndefined();
		expect(JSON.stringify(fixture.harness.staticData)).toContain(subscription.id);
	});

	it('watches the whole tenant when no user is listed, and asks for updates when chosen', async () => {
		await activated({ recordUsers: [], recordEvents: ['callEnded', 'callRecordUpdated'] });
		expect(onlySubscription()).toMatchObject({ resource: 'communications/callRecords', changeType: 'created,updated' });
	});

	it('derives the same clientState in every activation, so racing n8n mains agree without sharing state', async () => {
		await activated();
		const first = onlySubscription();
		// Another main activates the same workflow without the saved state (lost in the race).
		fixture.restart();
		fixture.harness.savedStaticData = '{}';
		await fixture.harness.activate();
		const second = onlySubscription();
		expect(second.id).not.toBe(first.id);
		expect(second.clientState).toBe(first.clientState);
	});

	it('splits a long user list into several subscriptions, each within the filter limit', async () => {
		const many = Array.from({ length: 120 }, (_, n) => `${String(n).padStart(8, '0')}-1111-4111-8111-000000000000`);
		await activated({ recordUsers: many });
		const subscriptions = fixture.sim.subscriptions();
		expect(subscriptions.length).toBe(3);
		expect(subscriptions.every((s) => s.resource.length <= 2000)).toBe(true);
		const covered = subscriptions.flatMap((s) => [...s.resource.matchAll(/'([0-9a-f-]{36})'/g)].map((m) => m[1]));
		expect(covered.sort()).toEqual([...many].sort());
		expect(new Set(subscriptions.map((s) => s.clientState)).size).toBe(3);
	});

	it('names CallRecords.Read.All when the app lacks it', async () => {
		await expect(activated({}, { permissions: ['User.Read.All', 'CallEvents.Read.All'] })).rejects.toThrow(
			/not allowed to subscribe to call records.*CallRecords\.Read\.All.*Grant admin consent/,
		);
		expect(fixture.sim.subscriptions()).toHaveLength(0);
	});

	it('says what to do when the organization has its 100 call-record subscriptions', async () => {
		fixture = await startTriggerFixture({ source: 'callRecords', recordUsers: [] }, { permissions: ['CallRecords.Read.All'], withoutCertificateCredential: true });
		// Another app holds the organization's hundred: Graph refuses the next with 403.
		fixture.sim.injectFault({
			method: 'POST',
			pathPattern: /\/subscriptions$/,
			status: 403,
			code: 'ExtensionError',
			message: "Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum number of 100 subscriptions for resource 'communications/callRecords' in this organization has been reached.]",
		});
		await expect(fixture.harness.activate()).rejects.toThrow(/at most 100 call-record subscriptions per organization.*leave Users empty.*Graph said: ExtensionError/);
	});

	it('refuses a user it cannot look up, instead of silently leaving them out of the filter', async () => {
		await expect(activated({ recordUsers: [adele.id, 'nobody@contoso.test'] })).rejects.toThrow(/User nobody@contoso.test was not found/);
		expect(fixture.sim.subscriptions()).toHaveLength(0);
	});

	it('goes ahead when Graph is throttling at activation, and the renewal timer subscribes the whole tenant later', async () => {
		fixture = await startTriggerFixture(
			{ source: 'callRecords', recordUsers: [] },
			{ permissions: ['CallRecords.Read.All'], withoutCertificateCredential: true },
		);
		await fixture.harness.startTrigger();
		fixture.sim.injectFault({ method: 'GET', pathPattern: /\/subscriptions$/, status: 429, retryAfterSeconds: 0, times: 4 });
		await fixture.harness.activate();
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		expect(logsOfThisTest().some((log) => log.level === 'warn' && log.message.includes('call records of the whole tenant'))).toBe(true);
		await fixture.harness.tick();
		expect(onlySubscription()).toMatchObject({ resource: 'communications/callRecords', includeResourceData: false });
	});

	it('deletes its subscriptions on deactivation', async () => {
		await activated({ recordUsers: [] });
		await fixture.harness.deactivate();
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		expect(fixture.harness.staticData).toEqual({});
	});
});

describe('notifications', () => {
	it('answers 202 at once, reads the record with its own token, and emits one callEnded item', async () => {
		await activated();
		const subscription = onlySubscription();
		const record = callOf([adele, bianca, cyril]);
		const [result] = await fixture.deliver([fixture.sim.callRecordNotificationFor(subscription, record.id)]);
		expect(result.status).toBe(202);
		expect(result.attempts[0].withinAckWindow).toBe(true);
		expect(fixture.harness.runs).toHaveLength(1);
		const items = fixture.harness.runs[0].items.map((item) => item.json);
		expect(items).toEqual([
			{
				event: 'callEnded',
				source: 'callRecords',
				callId: record.id,
				startDateTime: record.startDateTime,
				endDateTime: record.endDateTime,
				participants: [adele, bianca, cyril].map((user) => ({ id: user.id, displayName: user.displayName, kind: 'user', tenantId: TENANT, userPrincipalName: user.userPrincipalName })),
				receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
				subscriptionId: subscription.id,
				tenantId: TENANT,
				type: 'groupCall',
				modalities: ['audio', 'video'],
				duration: 300,
				organizer: { id: adele.id, displayName: adele.displayName, kind: 'user', tenantId: TENANT, userPrincipalName: null },
				joinWebUrl: record.joinWebUrl,
				version: 1,
				changeType: 'created',
				detectedBy: 'notification',
				data: expect.objectContaining({ id: record.id, version: 1, type: 'groupCall' }),
			},
		]);
		expect(items[0].data).not.toHaveProperty('sessions');
		await logFlushed();
		expect(fixture.sim.findRequests({ method: 'GET', path: /callRecords/ }).map((r) => [r.path, r.query.$expand])).toEqual([
			[`/v1.0/communications/callRecords/${record.id}`, 'participants_v2'],
		]);
	});

	it('reads every participant, and every session with its segments when asked, following each nextLink', async () => {
		await activated(
			{ recordOptions: { includeSessions: true, waitForRecordSeconds: 4 } },
			{ simulator: { callRecordSessionsPageSize: 2, callRecordParticipantsPageSize: 2 } },
		);
		const record = callOf([adele, bianca, cyril], { sessionCount: 5 });
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		const item = fixture.harness.runs[0].items[0].json;
		expect((item.participants as Array<{ id: string }>).map((participant) => participant.id)).toEqual([adele.id, bianca.id, cyril.id]);
		const data = item.data as { sessions: Array<{ id: string; segments: unknown[] }> };
		expect(data.sessions.map((session) => session.id)).toEqual(record.sessions.map((session) => session.id));
		expect(data.sessions.every((session) => session.segments.length === 1)).toBe(true);
		expect(data).not.toHaveProperty('sessions@odata.nextLink');
		expect(data).not.toHaveProperty('participants_v2@odata.nextLink');
		// The record with participants (2 pages), then with sessions (3 pages).
		await logFlushed();
		expect(recordReads()).toBe(5);
	});

	it('waits for a record Graph cannot return yet, and emits it once readable', async () => {
		await activated();
		const record = callOf([adele], { notReadableForMs: 1500 });
		const [result] = await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		expect(result.attempts[0].withinAckWindow).toBe(true);
		expect(fixture.harness.runs).toHaveLength(1);
		expect(fixture.harness.runs[0].items[0].json.callId).toBe(record.id);
		const statuses = fixture.sim.findRequests({ method: 'GET', path: /callRecords/ }).map((r) => r.status);
		expect(statuses[0]).toBe(404);
		expect(statuses[statuses.length - 1]).toBe(200);
	});

	it('rides out Graph throttling the read (429 with Retry-After)', async () => {
		await activated();
		const record = callOf([adele]);
		fixture.sim.injectFault({ method: 'GET', pathPattern: '/communications/callRecords/', status: 429, retryAfterSeconds: 1, times: 2 });
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		await logFlushed();
		expect(fixture.sim.findRequests({ method: 'GET', path: /callRecords/ }).map((r) => r.status)).toEqual([429, 429, 200]);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('retries a read that Graph answers with a server error', async () => {
		await activated();
		const record = callOf([adele]);
		fixture.sim.injectFault({ method: 'GET', pathPattern: '/communications/callRecords/', status: 503 });
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		await logFlushed();
		expect(fixture.sim.findRequests({ method: 'GET', path: /callRecords/ }).map((r) => r.status)).toEqual([503, 200]);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('reads at most 4 records at once per trigger, across requests, and emits every one', async () => {
		await activated({ recordUsers: [] }, { simulator: { callRecordReadLatencyMs: 150 } });
		const subscription = onlySubscription();
		const records = Array.from({ length: 14 }, () => callOf([adele]));
		await Promise.all([
			fixture.deliver(records.slice(0, 8).map((record) => fixture.sim.callRecordNotificationFor(subscription, record.id))),
			fixture.deliver(records.slice(8).map((record) => fixture.sim.callRecordNotificationFor(subscription, record.id))),
		]);
		expect(fixture.sim.peakConcurrentRecordReads).toBe(4);
		const emitted = fixture.harness.runs.flatMap((execution) => execution.items.map((item) => item.json.callId));
		expect(emitted.sort()).toEqual(records.map((record) => record.id).sort());
	});

	it('does not let records Graph cannot return yet hold back a readable one: waiting takes no read slot', async () => {
		await activated({ recordUsers: [], recordOptions: { waitForRecordSeconds: 30 } });
		const subscription = onlySubscription();
		const notReadableForMs = 6_000;
		const pending = Array.from({ length: 4 }, () => callOf([adele], { notReadableForMs }));
		const readableFrom = Date.now() + notReadableForMs;
		const slow = fixture.deliver(pending.map((record) => fixture.sim.callRecordNotificationFor(subscription, record.id)));
		// Let the first batch take its reads (each answered 404) before the readable record comes.
		await new Promise((resolve) => setTimeout(resolve, 300));
		const ready = callOf([bianca]);
		// Not fixture.deliver: that also waits for the first batch to finish.
		await fixture.sim.sendBatch([fixture.sim.callRecordNotificationFor(subscription, ready.id)]);
		while (fixture.harness.runs.length === 0 && Date.now() < readableFrom + 2_000) await new Promise((resolve) => setTimeout(resolve, 50));
		expect(Date.now()).toBeLessThan(readableFrom);
		expect(fixture.harness.runs.map((execution) => execution.items.map((item) => item.json.callId))).toEqual([[ready.id]]);
		await slow;
		expect(fixture.harness.runs).toHaveLength(2);
		expect(fixture.sim.peakConcurrentRecordReads).toBeLessThanOrEqual(4);
	});

	it('reads a record once and runs once when Graph delivers its notification again', async () => {
		await activated();
		const subscription = onlySubscription();
		const record = callOf([adele]);
		const notification = fixture.sim.callRecordNotificationFor(subscription, record.id);
		await fixture.deliver([notification, { ...notification }]);
		await fixture.deliver([notification]);
		expect(fixture.harness.runs).toHaveLength(1);
		expect(fixture.harness.runs[0].items).toHaveLength(1);
		await logFlushed();
		expect(recordReads()).toBe(1);
	});

	it('with updates chosen: the first version is callEnded, a later one callRecordUpdated, each once', async () => {
		await activated({ recordEvents: ['callEnded', 'callRecordUpdated'] });
		const subscription = onlySubscription();
		const record = callOf([adele]);
		// Graph sends both created and updated for a new record.
		await fixture.deliver([
			fixture.sim.callRecordNotificationFor(subscription, record.id, 'created'),
			fixture.sim.callRecordNotificationFor(subscription, record.id, 'updated'),
		]);
		fixture.sim.updateCallRecord(record.id, { modalities: ['audio', 'screenSharing'] });
		await fixture.deliver([fixture.sim.callRecordNotificationFor(subscription, record.id, 'updated')]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(subscription, record.id, 'updated')]);
		const items = fixture.harness.runs.flatMap((execution) => execution.items.map((item) => item.json));
		expect(items.map((item) => [item.event, item.version])).toEqual([
			['callEnded', 1],
			['callRecordUpdated', 2],
		]);
		expect(items[1].modalities).toEqual(['audio', 'screenSharing']);
	});

	it('reads the app credential once for many requests, not once per request', async () => {
		await activated();
		const subscription = onlySubscription();
		const before = fixture.harness.credentialReads.microsoftGraphAppApi ?? 0;
		for (let n = 0; n < 4; n++) {
			await fixture.deliver([fixture.sim.callRecordNotificationFor(subscription, callOf([adele]).id)]);
		}
		expect(fixture.harness.runs).toHaveLength(4);
		expect(fixture.harness.credentialReads.microsoftGraphAppApi).toBe(before + 1);
	});

	it('adds the raw notification when asked, without its clientState', async () => {
		await activated({ recordOptions: { includeRawNotification: true, waitForRecordSeconds: 4 } });
		const subscription = onlySubscription();
		const record = callOf([adele]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(subscription, record.id)]);
		const raw = fixture.harness.runs[0].items[0].json.rawNotification as Record<string, unknown>;
		expect(raw).toMatchObject({ subscriptionId: subscription.id, resource: `communications/callRecords/${record.id}` });
		expect(raw).not.toHaveProperty('clientState');
	});
});

describe('notifications that must not run the workflow', () => {
	it('runs nothing for a call-record ID Graph does not have, and fails the execution naming it', async () => {
		await activated();
		const forged = 'deadbeef-0000-4000-8000-000000000000';
		const [result] = await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), forged)]);
		expect(result.status).toBe(202);
		expect(fixture.harness.runs).toHaveLength(0);
		await logFlushed();
		expect(recordReads()).toBeGreaterThan(1);
		expect(fixture.harness.executions.map((execution) => execution.error?.message)).toEqual([
			expect.stringMatching(new RegExp(`^Could not read call record ${forged} from Microsoft Graph: .* answered 404 for all of Wait for New Records \\(4 s\\)`)),
		]);
	});

	it('refuses a wrong clientState with 401, reading nothing', async () => {
		await activated();
		const record = callOf([adele]);
		const [result] = await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id, 'created', { clientState: 'x'.repeat(64) })]);
		expect(result.status).toBe(401);
		expect(recordReads()).toBe(0);
		expect(fixture.harness.executions).toHaveLength(0);
	});

	it('drops notifications that name no call record, or two different ones, reading nothing', async () => {
		await activated();
		const subscription = onlySubscription();
		const record = callOf([adele]);
		const other = callOf([adele]);
		await fixture.deliver([
			fixture.sim.callRecordNotificationFor(subscription, record.id, 'created', { resource: `users/${adele.id}` }),
			fixture.sim.callRecordNotificationFor(subscription, record.id, 'created', { resource: `communications/callRecords/${record.id}/../../users` }),
			fixture.sim.callRecordNotificationFor(subscription, record.id, 'created', { resourceData: { id: other.id } }),
		]);
		expect(recordReads()).toBe(0);
		expect(fixture.harness.runs).toHaveLength(0);
		expect(logsOfThisTest().some((log) => /Dropped 3 call-record notification\(s\) that name no call record/.test(log.message))).toBe(true);
	});

	it.each([
		['a body that is not an object', '[1]', 400],
		['a body without value', '{"a":1}', 400],
	])('answers %s with %s', async (_, body, status) => {
		await activated();
		expect(await post(fixture.harness.url('notify'), body)).toBe(status);
		await fixture.harness.settled();
		expect(fixture.harness.executions).toHaveLength(0);
	});
});

describe('over time', () => {
	let clock: ReturnType<typeof useFakeDate>;
	beforeEach(() => {
		clock = useFakeDate();
	});
	afterEach(() => clock.restore());

	it('renews each subscription at half its lifetime and keeps it alive for a week', async () => {
		await activated({}, { withTimer: true });
		const subscription = onlySubscription();
		for (let half = 0; half < 6; half++) {
			clock.advanceMinutes(2116);
			await fixture.harness.tick();
		}
		expect(patches()).toBe(6);
		expect(creates()).toBe(0);
		expect(onlySubscription().id).toBe(subscription.id);
		const record = callOf([adele]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('after n8n was down longer than the lifetime, subscribes again at start with the same clientState', async () => {
		await activated({}, { withTimer: true });
		const before = onlySubscription();
		fixture.restart();
		clock.advanceMinutes(4300);
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		await fixture.harness.startTrigger('init');
		await fixture.harness.activate('init');
		const after = onlySubscription();
		expect(after.id).not.toBe(before.id);
		expect(after.clientState).toBe(before.clientState);
		expect(after.resource).toBe(before.resource);
		const record = callOf([bianca]);
		const [result] = await fixture.deliver([fixture.sim.callRecordNotificationFor(after, record.id)]);
		expect(result.status).toBe(202);
		expect(fixture.harness.runs).toHaveLength(1);
	});
});

describe('lifecycle notifications', () => {
	it('reauthorizationRequired renews with a PATCH and runs nothing', async () => {
		await activated();
		const subscription = onlySubscription();
		const [result] = await fixture.deliver([fixture.sim.lifecycleNotificationFor(subscription, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		expect(fixture.sim.countRequests({ method: 'PATCH', path: `/v1.0/subscriptions/${subscription.id}` })).toBe(1);
		expect(fixture.harness.executions).toHaveLength(0);
	});

	it('subscriptionRemoved subscribes again, basic and with the same filter', async () => {
		await activated();
		const subscription = onlySubscription();
		fixture.sim.removeSubscription(subscription.id);
		await fixture.deliver([fixture.sim.lifecycleNotificationFor(subscription, 'subscriptionRemoved')]);
		const restored = onlySubscription();
		expect(restored.id).not.toBe(subscription.id);
		expect(restored).toMatchObject({ resource: subscription.resource, clientState: subscription.clientState, includeResourceData: false });
		expect(JSON.stringify(fixture.harness.staticData)).toContain(restored.id);
	});
});

describe('listen for test event', () => {
	it('subscribes at the test URL for 45 minutes and hands the record to the manual execution', async () => {
		fixture = await startTriggerFixture(
			{ source: 'callRecords', recordUsers: [adele.id], recordOptions: { waitForRecordSeconds: 4 } },
			{ permissions: ['CallRecords.Read.All'], withoutCertificateCredential: true },
		);
		await fixture.harness.activateTest();
		const test = onlySubscription();
		expect(test.notificationUrl).toBe(fixture.harness.url('notify', true));
		expect(Date.parse(test.expirationDateTime) - Date.now()).toBeLessThanOrEqual(45 * 60_000 + 5_000);
		const record = callOf([adele]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(test, record.id)]);
		expect(fixture.harness.executions).toEqual([expect.objectContaining({ mode: 'manual' })]);
		const emitted = await fixture.harness.runManualExecution();
		expect(emitted[0][0].json).toMatchObject({ event: 'callEnded', source: 'callRecords', callId: record.id });
		await fixture.harness.deactivateTest();
		expect(fixture.sim.subscriptions()).toHaveLength(0);
	});
});
