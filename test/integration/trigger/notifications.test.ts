import { request } from 'node:https';

import { sharedKeyUnwrapPool } from '../../../lib/crypto/sharedKeyUnwrapPool';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/** Only what the running test logged. */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca] = USERS;
let fixture: TriggerFixture;

afterEach(async () => fixture?.close());


async function activated(parameters: Record<string, unknown> = {}) {
	fixture = await startTriggerFixture({ users: [adele.id, bianca.id], ...parameters });
	await fixture.harness.activate();
	const subscriptionOf = (user: { id: string }) =>
		fixture.sim.subscriptions().find((s) => s.resource.includes(user.id)) as StoredSubscription;
	return { sim: fixture.sim, harness: fixture.harness, subscriptionOf };
}

function post(url: string, body: string, contentType = 'application/json'): Promise<{ status: number; type: string; text: string }> {
	return new Promise((resolve, reject) => {
		const req = request(url, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
			let text = '';
			res.on('data', (chunk) => (text += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
		});
		req.on('error', reject);
		req.end(body);
	});
}

describe('validation handshake', () => {
	it.each(['notify', 'lifecycle'] as const)('answers on the %s URL with the decoded token as text/plain', async (kind) => {
		const { harness } = await activated();
		const token = 'Validation: Testing client application reachability <script>alert(1)</script> & more';
		const answer = await post(`${harness.url(kind)}?validationToken=${encodeURIComponent(token)}`, '', 'text/plain');
		await harness.settled();
		expect(answer).toEqual({ status: 200, type: 'text/plain; charset=utf-8', text: token });
		expect(harness.executions).toHaveLength(0);
	});
});

describe('call notifications', () => {
	it('turns a batch for several users into one item per call event, decrypted and normalised', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const adeleSub = subscriptionOf(adele);
		const biancaSub = subscriptionOf(bianca);
		const started = sim.buildCallEvent(adeleSub, { kind: 'started', direction: '{incoming}', extra: { futureField: { nested: true } } });
		const ended = sim.buildCallEvent(biancaSub, { kind: 'ended', direction: 'outgoing' });
		const [result] = await fixture.deliver([sim.notificationFor(adeleSub, started), sim.notificationFor(biancaSub, ended)]);
		expect(result.status).toBe(202);
		expect(result.attempts[0].withinAckWindow).toBe(true);

		expect(harness.executions).toHaveLength(1);
		const items = harness.executions[0].items.map((item) => item.json);
		expect(items).toEqual([
			{
				event: 'callStarted',
				source: 'callEvents',
				direction: 'incoming',
				userId: adele.id,
				userPrincipalName: adele.userPrincipalName,
				userDisplayName: adele.displayName,
				csUrl: started.csUrl,
				callId: started.callId,
				startDateTime: null,
				endDateTime: null,
				participants: null,
				receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
				subscriptionId: adeleSub.id,
				tenantId: TENANT,
				changeType: 'updated',
				resource: adeleSub.resource,
				data: started,
			},
			expect.objectContaining({ event: 'callEnded', direction: 'outgoing', userId: bianca.id, data: ended }),
		]);
		expect((items[0].data as Record<string, unknown>).futureField).toEqual({ nested: true });
	});

	it('leaves the 202 to n8n, which sends it only once the execution is started (queued), so a process that dies first leaves Graph to deliver again', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const sub = subscriptionOf(adele);
		const [result] = await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }))]);
		expect(result.status).toBe(202);
		expect(result.attempts[0].withinAckWindow).toBe(true);
		expect(harness.executions.map((e) => e.answeredBeforeStart)).toEqual([false]);
	});

	it('names the user in each item whether the user was entered by principal name or by ID', async () => {
		const { sim, harness, subscriptionOf } = await activated({ users: [adele.userPrincipalName, bianca.id] });
		const events = [adele, bianca].map((user) => {
			const sub = subscriptionOf(user);
			return sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }));
		});
		await fixture.deliver(events);
		expect(harness.executions[0].items.map(({ json }) => [json.userId, json.userPrincipalName, json.userDisplayName])).toEqual([
			[adele.id, adele.userPrincipalName, adele.displayName],
			[bianca.id, bianca.userPrincipalName, bianca.displayName],
		]);
	});

	it('subscribes a user entered by ID when the app may not read users, and leaves the names out of its items', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] }, { permissions: ['CallEvents.Read.All'] });
		await fixture.harness.activate();
		const [sub] = fixture.sim.subscriptions();
		expect(sub.resource).toContain(adele.id);
		expect(fixture.sim.findRequests({ method: 'GET', path: new RegExp(`/users/${adele.id}$`) }).map((r) => r.status)).toEqual([403]);
		await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }))]);
		expect(fixture.harness.executions[0].items[0].json).toMatchObject({ userId: adele.id, userPrincipalName: null, userDisplayName: null });
	});

	it.each([
		['{Microsoft.Communication.CallConversationStarted}', 'callStarted'],
		['Microsoft.Communication.CallConversationEnded', 'callEnded'],
		['Microsoft.Communication.CallEventType.CallStarted', 'callStarted'],
		['callEnded', 'callEnded'],
	])('normalises the event type %s', async (eventType, event) => {
		const { sim, harness, subscriptionOf } = await activated();
		const sub = subscriptionOf(adele);
		await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started', eventType }))]);
		expect(harness.executions[0].items[0].json.event).toBe(event);
	});

	it('passes an unknown event type through as "unknown" with the original value', async () => {
		const { sim, harness, subscriptionOf } = await activated({ events: ['callStarted'] });
		const sub = subscriptionOf(adele);
		await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started', eventType: 'Microsoft.Communication.CallOnHold' }))]);
		expect(harness.executions[0].items[0].json).toMatchObject({ event: 'unknown', originalEventType: 'Microsoft.Communication.CallOnHold' });
	});

	it('emits only the chosen events and directions', async () => {
		const { sim, harness, subscriptionOf } = await activated({ events: ['callEnded'], directions: ['outgoing'] });
		const sub = subscriptionOf(adele);
		const items = [
			sim.buildCallEvent(sub, { kind: 'started', direction: 'outgoing' }),
			sim.buildCallEvent(sub, { kind: 'ended', direction: 'incoming' }),
			sim.buildCallEvent(sub, { kind: 'ended', direction: 'outgoing' }),
		].map((event) => sim.notificationFor(sub, event));
		await fixture.deliver(items);
		expect(harness.executions[0].items.map((item) => [item.json.event, item.json.direction])).toEqual([['callEnded', 'outgoing']]);
	});

	it('adds the raw notification when asked, without its clientState', async () => {
		const { sim, harness, subscriptionOf } = await activated({ options: { includeRawNotification: true } });
		const sub = subscriptionOf(adele);
		await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }))]);
		const raw = harness.executions[0].items[0].json.rawNotification as Record<string, unknown>;
		expect(raw.subscriptionId).toBe(sub.id);
		expect(raw.encryptedContent).toBeDefined();
		expect(raw).not.toHaveProperty('clientState');
		expect(JSON.stringify(harness.executions)).not.toContain(sub.clientState);
	});

	it('works with the renamed preview resource users/{id}/communications/callEvents without a code change', async () => {
		const { sim, harness, subscriptionOf } = await activated({ options: { resourceTemplate: 'users/{id}/communications/callEvents' } });
		const sub = subscriptionOf(adele);
		expect(sub.resource).toBe(`users/${adele.id}/communications/callEvents`);
		const event = sim.buildCallEvent(sub, { kind: 'ended', direction: 'microsoft.graph.callDirection.outgoing' });
		await fixture.deliver([sim.notificationFor(sub, event)]);
		expect(harness.executions[0].items[0].json).toMatchObject({ event: 'callEnded', direction: 'outgoing', csUrl: event.joinCallUrl });
	});
});

describe('cost per notification', () => {
	it('reads no credential per request: the key ring and the app identity come from activation', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const reads = { ...harness.credentialReads };
		const sub = subscriptionOf(adele);
		sim.clearRequests();
		for (let index = 0; index < 5; index++) {
			await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }))]);
		}
		expect(harness.executions).toHaveLength(5);
		expect(harness.credentialReads).toEqual(reads);
		// No Graph call and no login-host request on the notification path: the signing keys came at activation.
		expect(sim.countRequests({ host: 'graph' })).toBe(0);
		expect(sim.countRequests({ host: 'login' })).toBe(0);
	});
});

describe('large batches', () => {
	it('decrypts a batch of 120 on worker threads into 120 items, in the order Graph sent them', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const subs = [subscriptionOf(adele), subscriptionOf(bianca)];
		const events = Array.from({ length: 120 }, (_, n) => ({ sub: subs[n % 2], event: sim.buildCallEvent(subs[n % 2], { kind: n % 3 ? 'started' : 'ended' }) }));
		const [result] = await fixture.deliver(events.map(({ sub, event }) => sim.notificationFor(sub, event)));
		expect(result.status).toBe(202);
		expect(sharedKeyUnwrapPool()?.runningWorkers).toBeGreaterThan(0);
		expect(logsOfThisTest().map((log) => log.message)).toContainEqual(
			expect.stringMatching(/^Decrypted 120 call notifications in \d+ ms \(120 on worker threads\)$/),
		);
		expect(harness.executions).toHaveLength(1);
		const items = harness.executions[0].items.map((item) => item.json);
		expect(items.map((item) => [item.userId, item.callId, item.event])).toEqual(
			events.map(({ sub, event }, n) => [sub === subs[0] ? adele.id : bianca.id, event.callId, n % 3 ? 'callStarted' : 'callEnded']),
		);
	});
});

describe('notifications that must not run the workflow', () => {
	it('drops items of unknown subscriptions or with a wrong clientState, and runs the rest', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const sub = subscriptionOf(adele);
		const good = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }));
		const wrongState = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }), { clientState: 'guess' });
		const unknown = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }), { subscriptionId: '00000000-0000-4000-8000-000000000000', clientState: 'guess' });
		await fixture.deliver([good, wrongState, unknown], { url: harness.url('notify') });
		expect(harness.executions).toHaveLength(1);
		expect(harness.executions[0].items).toHaveLength(1);
	});

	it('answers 401 and runs nothing when no item is ours', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const sub = subscriptionOf(adele);
		const [result] = await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }), { clientState: 'x'.repeat(64) })]);
		expect(result.status).toBe(401);
		expect(harness.executions).toHaveLength(0);
	});

	it('accepts (202) but drops a tampered payload, and logs why without secrets', async () => {
		const { sim, harness, subscriptionOf } = await activated();
		const sub = subscriptionOf(adele);
		const item = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }));
		const data = Buffer.from(item.encryptedContent.data, 'base64');
		data[0] ^= 0xff;
		item.encryptedContent.data = data.toString('base64');
		const [result] = await fixture.deliver([item]);
		expect(result.status).toBe(202);
		expect(harness.runs).toHaveLength(0);
		const line = logsOfThisTest().find((log) => log.message.includes('SIGNATURE_MISMATCH'));
		expect(line?.level).toBe('warn');
		expect(line?.message).not.toContain(sub.clientState);
	});

	it.each([
		['a body that is not an object', '[1,2,3]', 400],
		['a body without value', '{"hello":"world"}', 400],
		['value that is not an array', '{"value":{"a":1}}', 400],
		['items of the wrong type', '{"value":[1,"two",null]}', 401],
	])('answers %s with %s', async (_, body, status) => {
		const { harness } = await activated();
		expect((await post(harness.url('notify'), body)).status).toBe(status);
		await harness.settled();
		expect(harness.executions).toHaveLength(0);
	});
});
