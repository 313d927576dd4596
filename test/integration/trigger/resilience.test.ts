import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import {
	appCredentialFor,
	CLIENT_ID,
	startTriggerFixture,
	TENANT,
	USERS,
	type TriggerFixture,
} from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/** Only what the running test logged. */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca, cyril] = USERS;
let fixture: TriggerFixture;
let clock: ReturnType<typeof useFakeDate>;

beforeEach(() => {
	clock = useFakeDate();
});
afterEach(async () => {
	await fixture?.close();
	clock.restore();
});

const creates = () => fixture.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
const deletes = () => fixture.sim.countRequests({ method: 'DELETE', path: /\/subscriptions\// });
const subscriptionOf = (user: { id: string }) =>
	fixture.sim.subscriptions().find((s) => s.resource.includes(user.id)) as StoredSubscription;
/** Graph's client retries each call 4 times; this many failures outlast one call of every user. */
const failEveryAttempt = (users: number) => users * 4;

async function callStartedRuns(user: { id: string }): Promise<void> {
	const sub = subscriptionOf(user);
	const before = fixture.harness.executions.length;
	const [result] = await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }))]);
	expect(result.status).toBe(202);
	expect(fixture.harness.executions).toHaveLength(before + 1);
	expect(fixture.harness.executions[before].items[0].json).toMatchObject({ event: 'callStarted', userId: user.id });
}

describe('one user that fails does not take the trigger down', () => {
	it('at activation, subscribes the users that work, keeps the unknown one for the timer, and names it', async () => {
		const stranger = 'dddddddd-0000-4000-8000-00000000dead';
		fixture = await startTriggerFixture({ users: [adele.id, stranger, cyril.id] });
		const { sim, harness } = fixture;
		await harness.startTrigger();
		await harness.activate();

		expect(sim.subscriptions().map((s) => s.resource).sort()).toEqual(
			[`users/${adele.id}/callConversations`, `users/${cyril.id}/callConversations`].sort(),
		);
		expect(deletes()).toBe(0);
		const warning = logsOfThisTest().find((l) => l.level === 'warn' && l.message.includes(stranger));
		expect(warning?.message).toMatch(
			new RegExp(`workflow "Teams calls" \\(wf-teams-calls-1\\), node "Teams Call Trigger": while activating, the subscription for ${stranger} could not be made or checked; the renewal timer retries it\\. ${stranger}: Microsoft Graph does not offer this resource`),
		);
		await callStartedRuns(adele);

		// The timer tries the stranger again and reports it as a failed execution that names the user.
		await harness.tick();
		expect(harness.failures).toHaveLength(1);
		expect(harness.failures[0].message).toMatch(new RegExp(`for ${stranger} alive failed 1 time\\(s\\)\\. This user has no subscription now\\..*does not offer this resource`));
		expect(sim.subscriptions()).toHaveLength(2);
	});

	it('at n8n start, a watched user deleted while n8n was down leaves the others\' subscriptions alone', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const adeles = subscriptionOf(adele).id;
		fixture.restart();
		sim.removeUser(bianca.id);
		sim.removeSubscription(subscriptionOf(bianca).id);
		sim.clearRequests();

		await harness.activate('init');
		expect(sim.subscriptions().map((s) => s.id)).toEqual([adeles]);
		expect(deletes()).toBe(0);
		expect(JSON.stringify(harness.staticData)).toContain(adeles);
		expect(logsOfThisTest().some((l) => l.level === 'warn' && l.message.includes(`while activating, the subscription for ${bianca.id}`))).toBe(true);
		await callStartedRuns(adele);
	});

	it('a Graph outage at n8n start deletes nothing, and the timer carries on once Graph is back', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const before = sim.subscriptions().map((s) => s.id).sort();
		fixture.restart();
		sim.injectFault({ pathPattern: /\/subscriptions/, host: 'graph', status: 503, times: failEveryAttempt(2) });
		sim.clearRequests();

		await harness.startTrigger('init');
		await harness.activate('init');
		expect(deletes()).toBe(0);
		expect(sim.subscriptions().map((s) => s.id).sort()).toEqual(before);
		expect(logsOfThisTest().filter((l) => l.level === 'warn' && /while activating.*503 ServiceUnavailable/.test(l.message))).toHaveLength(2);
		await callStartedRuns(bianca);

		clock.advanceMinutes(721);
		await harness.tick();
		expect(sim.countRequests({ method: 'PATCH', path: /\/subscriptions\// })).toBe(2);
		expect(creates()).toBe(0);
	});

	it('a login-host outage at n8n start deletes nothing and keeps the saved state', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const before = sim.subscriptions().map((s) => s.id).sort();
		const saved = harness.savedStaticData;
		fixture.restart();
		sim.injectFault({ pathPattern: /\/token$/, host: 'login', status: 503, times: 1000 });

		await harness.activate('init');
		expect(harness.savedStaticData).toBe(saved);
		expect(sim.subscriptions().map((s) => s.id).sort()).toEqual(before);
		expect(logsOfThisTest().some((l) => l.level === 'warn' && /while activating, the subscription for .* could not be made or checked/.test(l.message))).toBe(true);
		sim.clearFaults();
		await callStartedRuns(adele);
	});

	it('refuses activation only when nothing can work: every user refused for good', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] }, { permissions: ['User.Read.All'] });
		await expect(fixture.harness.activate()).rejects.toThrow(
			new RegExp(`^${adele.id}: the app is not allowed .*CallEvents\\.Read\\.All.*; ${bianca.id}: the app is not allowed`),
		);
		expect(logsOfThisTest().some((l) => l.level === 'warn' && /node "Teams Call Trigger": activation refused: /.test(l.message))).toBe(true);
		expect(fixture.harness.staticData).toEqual({});
	});

	it('refuses activation once, naming the fix, when the credential is rejected', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] }, { appCredential: { clientSecret: 'wrong-secret-value' } });
		await expect(fixture.harness.activate()).rejects.toThrow(/^The client secret is wrong\./);
	});

	it('creates subscriptions a few at a time, not one after another', async () => {
		const many = Array.from({ length: 8 }, (_, index) => ({
			id: `eeeeeeee-0000-4000-8000-${String(index).padStart(12, '0')}`,
			userPrincipalName: `user${index}@contoso.test`,
			displayName: `User ${index}`,
		}));
		fixture = await startTriggerFixture({ users: many.map((user) => user.id) });
		for (const user of many) fixture.sim.addUser(user);
		await fixture.harness.activate();
		expect(fixture.sim.subscriptions()).toHaveLength(8);
		expect(fixture.sim.peakConcurrentCreates).toBe(4);
	});
});

describe('a Graph outage during activation', () => {
	it('does not refuse activation; the timer subscribes everyone once Graph is back, and reports the cause meanwhile', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		const { sim, harness } = fixture;
		sim.injectFault({ method: 'POST', pathPattern: /\/subscriptions$/, host: 'graph', status: 503, times: failEveryAttempt(2) * 2 });
		await harness.startTrigger();
		await harness.activate();
		expect(sim.subscriptions()).toHaveLength(0);
		expect(logsOfThisTest().filter((l) => l.level === 'warn' && /while activating.*503 ServiceUnavailable/.test(l.message))).toHaveLength(2);

		// Still failing at the first tick: each user is reported with the real cause.
		await harness.tick();
		expect(harness.failures.map((failure) => failure.message)).toEqual([
			expect.stringMatching(new RegExp(`for ${adele.id} alive failed 1 time\\(s\\)\\. This user has no subscription now\\..*503 ServiceUnavailable`)),
			expect.stringMatching(new RegExp(`for ${bianca.id} alive failed 1 time\\(s\\)\\. This user has no subscription now\\..*503 ServiceUnavailable`)),
		]);

		// Graph is back; after the backoff the timer makes both subscriptions with the saved clientStates.
		sim.clearFaults();
		clock.advanceMinutes(1);
		await harness.tick();
		expect(sim.subscriptions()).toHaveLength(2);
		const saved = JSON.stringify(harness.staticData);
		for (const subscription of sim.subscriptions()) expect(saved).toContain(subscription.clientState as string);
		await callStartedRuns(adele);
		await callStartedRuns(bianca);
	});

	it('gives Graph one URL for notifications and lifecycle events, so a re-registered "default" webhook is enough', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const sub = subscriptionOf(adele);
		expect(sub.lifecycleNotificationUrl).toBe(harness.url('notify'));
		expect(sim.handshakes.every((handshake) => handshake.url.startsWith(harness.url('notify')) && handshake.outcome === 'ok')).toBe(true);
		sim.clearRequests();
		const [result] = await fixture.deliver([sim.lifecycleNotificationFor(sub, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		expect(sim.countRequests({ method: 'PATCH', path: new RegExp(`/subscriptions/${sub.id}$`) })).toBe(1);
		expect(harness.executions).toHaveLength(0);
	});

	it('keeps a subscription made before with the separate lifecycle URL working', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		// State and subscription as the previous version made them: lifecycle events at .../lifecycle.
		const saved = JSON.parse(harness.savedStaticData);
		saved['node:Teams Call Trigger'].teamsCallSubscriptions.lifecycleUrl = harness.url('lifecycle');
		harness.savedStaticData = JSON.stringify(saved);
		const sub = subscriptionOf(adele);
		sub.lifecycleNotificationUrl = harness.url('lifecycle');
		fixture.restart();
		sim.clearRequests();

		await harness.activate('init');
		expect(creates()).toBe(0);
		expect(sim.subscriptions().map((s) => s.id)).toEqual([sub.id]);
		const [result] = await fixture.deliver([sim.lifecycleNotificationFor(sub, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		expect(sim.countRequests({ method: 'PATCH', path: new RegExp(`/subscriptions/${sub.id}$`) })).toBe(1);
	});
});

describe('what the trigger saved follows the credential', () => {
	const OTHER_CLIENT_ID = '33333333-aaaa-4bbb-8ccc-000000000002';
	const OTHER_SECRET = 'Yy7~other.secret-value_ABCDEFGHIJ';

	it('after the app credential is edited to another app, notifications are checked against the new app', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		sim.registerApp({ tenantId: TENANT, clientId: OTHER_CLIENT_ID, secrets: [{ value: OTHER_SECRET }], permissions: ['CallEvents.Read.All', 'User.Read.All'] });
		await harness.activate();
		const old = subscriptionOf(adele);

		harness.setAppCredential({ ...appCredentialFor(sim), clientId: OTHER_CLIENT_ID, clientSecret: OTHER_SECRET });
		fixture.restart();
		await harness.activate('init');

		const moved = sim.subscriptions().find((s) => s.applicationId === OTHER_CLIENT_ID) as StoredSubscription;
		expect(moved).toBeDefined();
		expect(moved.clientState).toBe(old.clientState);
		expect(harness.staticData).toMatchObject({ teamsCallSubscriptions: { app: { clientId: OTHER_CLIENT_ID } } });
		// Graph signs the new subscription's notifications for the new app: they run the workflow.
		const [result] = await fixture.deliver([sim.notificationFor(moved, sim.buildCallEvent(moved, { kind: 'started' }))]);
		expect(result.status).toBe(202);
		expect(harness.executions.map((execution) => execution.items[0].json.subscriptionId)).toEqual([moved.id]);
		expect(logsOfThisTest().some((l) => /could not be proven to come from Microsoft Graph/.test(l.message))).toBe(false);
	});
	it('after the edit, the renewal timer moves the subscriptions to the new app without a restart', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		sim.registerApp({ tenantId: TENANT, clientId: OTHER_CLIENT_ID, secrets: [{ value: OTHER_SECRET }], permissions: ['CallEvents.Read.All', 'User.Read.All'] });
		await harness.startTrigger();
		await harness.activate();
		const old = subscriptionOf(adele);

		harness.setAppCredential({ ...appCredentialFor(sim), clientId: OTHER_CLIENT_ID, clientSecret: OTHER_SECRET });
		clock.advanceMinutes(721);
		await harness.tick();
		const moved = sim.subscriptions().find((s) => s.applicationId === OTHER_CLIENT_ID) as StoredSubscription;
		expect(moved.clientState).toBe(old.clientState);
		const [result] = await fixture.deliver([sim.notificationFor(moved, sim.buildCallEvent(moved, { kind: 'started' }))]);
		expect(result.status).toBe(202);
		expect(harness.executions.map((execution) => execution.items[0].json.subscriptionId)).toEqual([moved.id]);
	});
});

describe('a switch to another app registration, while the subscriptions are mixed', () => {
	const OTHER_CLIENT_ID = '33333333-aaaa-4bbb-8ccc-000000000003';
	const OTHER_SECRET = 'Xx6~other.secret-value_ABCDEFGHIJ';
	const ofApp = (clientId: string, user: { id: string }) =>
		fixture.sim.subscriptions().find((s) => s.applicationId === clientId && s.resource.includes(user.id));
	const eventOf = (sub: StoredSubscription) => fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));

	it('moves each subscription to the new app at the next tick, and runs notifications signed for either app', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		const { sim, harness } = fixture;
		sim.registerApp({ tenantId: TENANT, clientId: OTHER_CLIENT_ID, secrets: [{ value: OTHER_SECRET }], permissions: ['CallEvents.Read.All', 'User.Read.All'] });
		await harness.startTrigger();
		await harness.activate();
		const oldAdele = ofApp(CLIENT_ID, adele) as StoredSubscription;
		const oldBianca = ofApp(CLIENT_ID, bianca) as StoredSubscription;

		harness.setAppCredential({ ...appCredentialFor(sim), clientId: OTHER_CLIENT_ID, clientSecret: OTHER_SECRET });
		// Long before half their lifetime; Graph fails every attempt for Bianca's in this tick.
		clock.advanceMinutes(1);
		sim.injectFault({ method: 'PATCH', pathPattern: `/subscriptions/${oldBianca.id}`, status: 503, code: 'serviceUnavailable', times: failEveryAttempt(1) });
		await harness.tick();
		const newAdele = ofApp(OTHER_CLIENT_ID, adele) as StoredSubscription;
		expect(newAdele.clientState).toBe(oldAdele.clientState);
		expect(ofApp(OTHER_CLIENT_ID, bianca)).toBeUndefined();
		// One batch, as Graph sends it: a validation token for each app. The old app's subscriptions still deliver.
		const [mixed] = await fixture.deliver([eventOf(oldAdele), eventOf(oldBianca), eventOf(newAdele)]);
		expect(mixed.status).toBe(202);
		expect(harness.executions.map((execution) => execution.items.map((item) => item.json.subscriptionId))).toEqual([[oldAdele.id, oldBianca.id, newAdele.id]]);

		// The timer's retry after its back-off.
		clock.advanceMinutes(1);
		await harness.tick();
		const newBianca = ofApp(OTHER_CLIENT_ID, bianca) as StoredSubscription;
		expect(newBianca.clientState).toBe(oldBianca.clientState);
		const [moved] = await fixture.deliver([eventOf(newBianca), eventOf(oldBianca)]);
		expect(moved.status).toBe(202);
		expect(harness.executions[1].items.map((item) => item.json.subscriptionId)).toEqual([newBianca.id, oldBianca.id]);
		expect(logsOfThisTest().some((l) => /could not be proven to come from Microsoft Graph/.test(l.message))).toBe(false);
	});

	it('refuses a token for the previous app once its subscriptions have expired', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		sim.registerApp({ tenantId: TENANT, clientId: OTHER_CLIENT_ID, secrets: [{ value: OTHER_SECRET }], permissions: ['CallEvents.Read.All', 'User.Read.All'] });
		await harness.startTrigger();
		await harness.activate();
		const old = ofApp(CLIENT_ID, adele) as StoredSubscription;
		harness.setAppCredential({ ...appCredentialFor(sim), clientId: OTHER_CLIENT_ID, clientSecret: OTHER_SECRET });
		await harness.tick();
		clock.advanceMinutes(Math.ceil((Date.parse(old.expirationDateTime) - Date.now()) / 60_000) + 1);

		await fixture.deliver([eventOf(old)]);
		expect(harness.executions).toHaveLength(0);
		expect(logsOfThisTest().some((l) => /could not be proven to come from Microsoft Graph: validation token 1 failed verification: jwt audience invalid/.test(l.message))).toBe(true);
	});
});

describe('deactivation and test mode leave nothing behind', () => {
	/** Two users, both subscriptions due for renewal. */
	async function dueForRenewal() {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		await fixture.harness.startTrigger();
		await fixture.harness.activate();
		clock.advanceMinutes(721);
		fixture.sim.clearRequests();
		return fixture;
	}

	function expectNothingLeftOrRenewed() {
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		expect(creates()).toBe(0);
		expect(fixture.sim.countRequests({ method: 'PATCH' })).toBe(0);
	}

	it('a renewal tick that fires after delete() and before the timer is closed creates and renews nothing', async () => {
		const { harness } = await dueForRenewal();
		// n8n's order: delete(), then the trigger's close; a cron tick can fire in between.
		await harness.deactivate(() => harness.tick());
		expectNothingLeftOrRenewed();
	});

	it('a tick that fires as delete() starts renews nothing, and delete() leaves nothing', async () => {
		const { harness } = await dueForRenewal();
		await Promise.all([harness.tick(), harness.deactivate()]);
		expectNothingLeftOrRenewed();
	});

	it('"listen for test event" asks Graph for its shortest lifetime, not the production one', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		await harness.activateTest();
		const [test] = sim.subscriptions();
		expect(test.notificationUrl).toBe(harness.url('notify', true));
		expect(Date.parse(test.expirationDateTime) - Date.now()).toBeLessThanOrEqual(45 * 60_000 + 5_000);
		await harness.deactivateTest();
		expect(sim.subscriptions()).toHaveLength(0);
	});

	it('"listen for test event" while the workflow is active says what to do, and leaves production alone', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const production = subscriptionOf(adele);
		await expect(harness.activateTest()).rejects.toThrow(
			new RegExp(`^This workflow is active, and its production subscription already receives the calls of ${adele.id}: .*deactivate the workflow first`),
		);
		expect(sim.subscriptions().map((s) => s.id)).toEqual([production.id]);
		await callStartedRuns(adele);
	});
});
