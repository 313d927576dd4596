import { useFakeDate } from '../../support/fakeClock';
import { forgetTriggerRuntimes } from '../../../lib/delivery/triggerRuntime';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/** Only what the running test logged. */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca] = USERS;
let fixture: TriggerFixture;
let clock: ReturnType<typeof useFakeDate>;


beforeEach(() => {
	clock = useFakeDate();
});

afterEach(async () => {
	await fixture?.close();
	clock.restore();
});

const patches = () => fixture.sim.countRequests({ method: 'PATCH', path: /\/subscriptions\// });
const creates = () => fixture.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
const subscriptionOf = (user: { id: string }) =>
	fixture.sim.subscriptions().find((s) => s.resource.includes(user.id)) as StoredSubscription;

async function activeWithTimer(parameters: Record<string, unknown> = {}) {
	fixture = await startTriggerFixture({ users: [adele.id, bianca.id], ...parameters });
	await fixture.harness.startTrigger();
	await fixture.harness.activate();
	fixture.sim.clearRequests();
	return fixture;
}

async function deliverCallStarted(user: { id: string }): Promise<number | undefined> {
	const sub = subscriptionOf(user);
	const [result] = await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }))]);
	return result.status;
}

describe('the renewal timer', () => {
	it('does nothing before create() ran, and makes no Graph call while nothing is due', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		await fixture.harness.startTrigger();
		await fixture.harness.tick();
		expect(fixture.sim.countRequests({ host: 'graph' })).toBe(0);
		await fixture.harness.activate();
		fixture.sim.clearRequests();
		clock.advanceMinutes(60);
		await fixture.harness.tick();
		expect(fixture.sim.countRequests({ host: 'graph' })).toBe(0);
	});

	it('renews each subscription once half its lifetime has passed, and keeps it alive for days', async () => {
		await activeWithTimer();
		const firstExpiry = Date.parse(subscriptionOf(adele).expirationDateTime);
		for (let halfDay = 0; halfDay < 10; halfDay++) {
			clock.advanceMinutes(721);
			await fixture.harness.tick();
			clock.advanceMinutes(1);
			await fixture.harness.tick();
		}
		expect(patches()).toBe(20);
		expect(creates()).toBe(0);
		expect(fixture.sim.subscriptions()).toHaveLength(2);
		expect(Date.parse(subscriptionOf(adele).expirationDateTime)).toBeGreaterThan(firstExpiry + 4 * 86_400_000);
		expect(await deliverCallStarted(adele)).toBe(202);
		expect(fixture.harness.executions).toHaveLength(1);
	});

	it('creates a subscription anew when Graph answers 404 to the renewal, keeping its clientState', async () => {
		await activeWithTimer();
		const lost = subscriptionOf(adele);
		fixture.sim.removeSubscription(lost.id);
		clock.advanceMinutes(721);
		await fixture.harness.tick();
		expect(fixture.sim.countRequests({ method: 'PATCH', path: `/beta/subscriptions/${lost.id}`, status: 404 })).toBe(1);
		const restored = subscriptionOf(adele);
		expect(restored.id).not.toBe(lost.id);
		expect(restored.clientState).toBe(lost.clientState);
		expect(fixture.sim.subscriptions()).toHaveLength(2);
		// The saved state still names the old ID; the webhook (which reads only saved state) accepts it anyway.
		expect(JSON.stringify(fixture.harness.staticData)).toContain(lost.id);
		expect(await deliverCallStarted(adele)).toBe(202);
		expect(fixture.harness.executions).toHaveLength(1);
	});

	it('honours Retry-After on 429 and retries 5xx with backoff', async () => {
		await activeWithTimer({ users: [adele.id] });
		fixture.sim.injectFault({ method: 'PATCH', pathPattern: '/subscriptions/', status: 429, retryAfterSeconds: 1 });
		fixture.sim.injectFault({ method: 'PATCH', pathPattern: '/subscriptions/', status: 503, times: 1 });
		clock.advanceMinutes(721);
		const started = performance.now();
		await fixture.harness.tick();
		const elapsed = performance.now() - started;
		const attempts = fixture.sim.findRequests({ method: 'PATCH' }).map((r) => r.status);
		expect(attempts).toEqual([429, 503, 200]);
		expect(elapsed).toBeGreaterThanOrEqual(2000);
		expect(fixture.harness.failures).toHaveLength(0);
	});

	it('reports a renewal that keeps failing through n8n\'s error handling, with what to fix', async () => {
		await activeWithTimer({ users: [adele.id] });
		fixture.sim.injectFault({ method: 'PATCH', pathPattern: '/subscriptions/', status: 403, code: 'ExtensionError', message: 'Forbidden', times: 100 });
		clock.advanceMinutes(721);
		await fixture.harness.tick();
		expect(fixture.harness.failures).toHaveLength(0);
		expect(logsOfThisTest().some((l) => l.level === 'warn' && /attempt 1/.test(l.message))).toBe(true);
		for (let attempt = 0; attempt < 3; attempt++) {
			clock.advanceMinutes(30);
			await fixture.harness.tick();
		}
		expect(fixture.harness.failures).toHaveLength(1);
		expect(fixture.harness.failures[0].message).toMatch(
			/Keeping the Microsoft Teams call subscription for aaaaaaaa-.* alive failed \d+ time\(s\).*CallEvents\.Read\.All.*Grant admin consent/,
		);
		// Reported once an hour at most, not at every tick.
		clock.advanceMinutes(20);
		await fixture.harness.tick();
		expect(fixture.harness.failures).toHaveLength(1);
	});

	it('backs off between failed attempts instead of calling Graph at every tick', async () => {
		await activeWithTimer({ users: [adele.id] });
		fixture.sim.injectFault({ method: 'PATCH', pathPattern: '/subscriptions/', status: 400, code: 'InvalidRequest', message: 'nope', times: 100 });
		clock.advanceMinutes(721);
		await fixture.harness.tick();
		await fixture.harness.tick();
		await fixture.harness.tick();
		expect(patches()).toBe(1);
	});
});

describe('restarts', () => {
	it('after n8n was down longer than the lifetime, recreates every subscription at start, without duplicates', async () => {
		await activeWithTimer();
		const before = fixture.sim.subscriptions().map((s) => s.id);
		fixture.restart();
		clock.advanceMinutes(3 * 1440);
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		// n8n starts the timer and re-checks the webhooks of a node that has a trigger() (activation "init").
		await fixture.harness.startTrigger('init');
		await fixture.harness.activate('init');
		const after = fixture.sim.subscriptions();
		expect(after).toHaveLength(2);
		expect(after.map((s) => s.id).some((id) => before.includes(id))).toBe(false);
		expect(creates()).toBe(2);
		expect(await deliverCallStarted(bianca)).toBe(202);
		expect(fixture.harness.executions).toHaveLength(1);
		await fixture.harness.tick();
		expect(fixture.sim.subscriptions()).toHaveLength(2);
	});

	it('after a short restart, renews what is alive and creates nothing', async () => {
		await activeWithTimer();
		fixture.restart();
		clock.advanceMinutes(800);
		await fixture.harness.startTrigger('init');
		await fixture.harness.activate('init');
		expect(creates()).toBe(0);
		expect(patches()).toBe(2);
		expect(fixture.sim.subscriptions()).toHaveLength(2);
	});

	it('checkExists renews a subscription close to expiry on the way', async () => {
		await activeWithTimer({ users: [adele.id] });
		clock.advanceMinutes(1300);
		await fixture.harness.activate('update');
		expect(patches()).toBe(1);
		expect(Date.parse(subscriptionOf(adele).expirationDateTime) - Date.now()).toBeGreaterThan(1430 * 60_000);
	});
});

describe('lifecycle notifications', () => {
	it('reauthorizationRequired: renews with a PATCH, runs nothing', async () => {
		await activeWithTimer();
		const sub = subscriptionOf(adele);
		const [result] = await fixture.deliver([fixture.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		expect(fixture.sim.countRequests({ method: 'PATCH', path: `/beta/subscriptions/${sub.id}` })).toBe(1);
		expect(fixture.sim.countRequests({ path: /reauthorize/ })).toBe(0);
		expect(fixture.harness.executions).toHaveLength(0);
	});

	it('subscriptionRemoved: recreates it and saves the new ID', async () => {
		await activeWithTimer();
		const sub = subscriptionOf(adele);
		fixture.sim.removeSubscription(sub.id);
		await fixture.deliver([fixture.sim.lifecycleNotificationFor(sub, 'subscriptionRemoved')], { url: fixture.harness.url('lifecycle') });
		const restored = subscriptionOf(adele);
		expect(restored.id).not.toBe(sub.id);
		expect(JSON.stringify(fixture.harness.staticData)).toContain(restored.id);
		expect(fixture.sim.subscriptions()).toHaveLength(2);
		// The timer, in the same process, knows the new ID too: no further create at the next renewal.
		clock.advanceMinutes(721);
		await fixture.harness.tick();
		expect(creates()).toBe(1);
	});

	it('missed: logged, and an item only when asked for', async () => {
		await activeWithTimer({ options: { emitMissedNotifications: true } });
		const sub = subscriptionOf(adele);
		await fixture.deliver([fixture.sim.lifecycleNotificationFor(sub, 'missed')]);
		expect(logsOfThisTest().some((l) => l.level === 'warn' && l.message.includes('missed call notifications'))).toBe(true);
		expect(fixture.harness.executions[0].items[0].json).toMatchObject({ event: 'missed', source: 'callEvents', userId: adele.id, userDisplayName: adele.displayName });
	});

	it('a lifecycle batch that also starts an execution (missed, emitted) saves its state change for the next process', async () => {
		await activeWithTimer({ options: { emitMissedNotifications: true } });
		const removed = subscriptionOf(adele);
		const reauthorized = subscriptionOf(bianca);
		fixture.sim.removeSubscription(removed.id);
		clock.advanceMinutes(60);
		const [result] = await fixture.deliver([
			fixture.sim.lifecycleNotificationFor(removed, 'subscriptionRemoved'),
			fixture.sim.lifecycleNotificationFor(reauthorized, 'reauthorizationRequired'),
			fixture.sim.lifecycleNotificationFor(reauthorized, 'missed'),
		]);
		expect(result.status).toBe(202);
		expect(fixture.harness.executions.map((execution) => execution.items.map(({ json }) => json.event))).toEqual([['missed']]);
		const restored = subscriptionOf(adele);
		expect(restored.id).not.toBe(removed.id);
		// What n8n's database holds: the new ID and the new expiry.
		const saved = (fixture.harness.staticData.teamsCallSubscriptions as { slots: Array<{ userId: string; subscriptionId: string; expiresAt: string }> }).slots;
		expect(saved.map(({ userId, subscriptionId, expiresAt }) => ({ userId, subscriptionId, expiresAt }))).toEqual([
			{ userId: adele.id, subscriptionId: restored.id, expiresAt: restored.expirationDateTime },
			{ userId: bianca.id, subscriptionId: reauthorized.id, expiresAt: subscriptionOf(bianca).expirationDateTime },
		]);
		// Another process starts from that: it never asks for the removed subscription, creates nothing, and
		// renews nothing that was renewed an hour ago.
		fixture.restart();
		fixture.sim.clearRequests();
		await fixture.harness.startTrigger('init');
		await fixture.harness.activate('init');
		expect(fixture.sim.countRequests({ path: `/beta/subscriptions/${removed.id}` })).toBe(0);
		expect(creates()).toBe(0);
		expect(fixture.sim.subscriptions()).toHaveLength(2);
	});

	it('refuses a lifecycle event with a wrong clientState', async () => {
		await activeWithTimer();
		const sub = subscriptionOf(adele);
		const [result] = await fixture.deliver([fixture.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired', { clientState: 'forged' })]);
		expect(result.status).toBe(401);
		expect(patches()).toBe(0);
	});
});

describe('manual test mode', () => {
	it('listens on the test URL with its own subscriptions, and leaves nothing behind', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		await fixture.harness.activateTest();
		const test = fixture.sim.subscriptions().find((s) => s.notificationUrl === fixture.harness.url('notify', true)) as StoredSubscription;
		expect(test).toBeDefined();
		await fixture.deliver([fixture.sim.notificationFor(test, fixture.sim.buildCallEvent(test, { kind: 'started' }))]);
		expect(fixture.harness.executions).toEqual([expect.objectContaining({ mode: 'manual' })]);
		const emitted = await fixture.harness.runManualExecution();
		expect(emitted[0][0].json).toMatchObject({ event: 'callStarted', subscriptionId: test.id });
		await fixture.harness.deactivateTest();
		expect(fixture.sim.subscriptions()).toHaveLength(0);
	});

	it('hands the test event to a manual execution that runs in another process (a queue-mode worker)', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		await fixture.harness.activateTest();
		const test = fixture.sim.subscriptions().find((s) => s.notificationUrl === fixture.harness.url('notify', true)) as StoredSubscription;
		const event = fixture.sim.buildCallEvent(test, { kind: 'started' });
		await fixture.deliver([fixture.sim.notificationFor(test, event)]);
		// Nothing this process kept in memory is there where the execution runs.
		const emitted = await fixture.harness.runManualExecution(forgetTriggerRuntimes);
		expect(emitted).toEqual([[expect.objectContaining({ json: expect.objectContaining({ event: 'callStarted', callId: event.callId, subscriptionId: test.id }) })]]);
		await fixture.harness.deactivateTest();
	});
});
