import { forgetNotificationSigningKeys } from '../../../lib/trigger/verifyBatchOrigin';
import { useFakeDate } from '../../support/fakeClock';
import { capturedLogs } from '../../support/n8nTriggerHarness';
import { CLIENT_ID, startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

const [adele] = USERS;
const DOMAIN = 'contoso.onmicrosoft.com';
const OTHER_TENANT = 'eeeeeeee-0000-4000-8000-00000000000e';
const CONFIGURATION_PATH = /\/v2\.0\/\.well-known\/openid-configuration$/;

let fixture: TriggerFixture;
let clock: ReturnType<typeof useFakeDate> | undefined;

beforeEach(() => {
	forgetNotificationSigningKeys();
	capturedLogs.length = 0;
});
afterEach(async () => {
	clock?.restore();
	clock = undefined;
	await fixture?.close();
});

async function activated(options: { tenantByDomain?: boolean; loginDownAtActivation?: boolean } = {}) {
	fixture = await startTriggerFixture(
		{ users: [adele.id] },
		options.tenantByDomain ? { appCredential: { tenantId: DOMAIN } } : {},
	);
	fixture.sim.registerTenant(TENANT, [DOMAIN]);
	if (options.loginDownAtActivation) loginHostDown(CONFIGURATION_PATH);
	await fixture.harness.activate();
	const sub = fixture.sim.subscriptions()[0] as StoredSubscription;
	const callStarted = (overrides?: Record<string, unknown>) =>
		fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }), overrides);
	return { sim: fixture.sim, harness: fixture.harness, sub, callStarted };
}

/** The login host answers 503 to its OpenID configuration and key set (its token endpoint too, by default). */
function loginHostDown(pathPattern: RegExp = /./): void {
	fixture.sim.injectFault({ host: 'login', method: 'GET', pathPattern, status: 503, times: 10_000 });
}

const warned = (pattern: RegExp) => capturedLogs.some((line) => line.level === 'warn' && pattern.test(line.message));

describe('signing keys from the tenant\'s OpenID configuration', () => {
	it('fetches the configuration and the keys it names at activation, and none on the notification path', async () => {
		const { sim, harness, callStarted } = await activated();
		expect(sim.findRequests({ host: 'login', method: 'GET' }).map((request) => request.path)).toEqual([
			`/${TENANT}/v2.0/.well-known/openid-configuration`,
			`/${TENANT}/discovery/v2.0/keys`,
		]);
		sim.clearRequests();
		for (let index = 0; index < 3; index++) {
			const [result] = await fixture.deliver([callStarted()]);
			expect(result.status).toBe(202);
		}
		expect(harness.executions).toHaveLength(3);
		expect(sim.countRequests({ host: 'login' })).toBe(0);
	});

	it('checks tokens against the GUID of a tenant named by domain, from its configuration', async () => {
		const { sim, harness, callStarted } = await activated({ tenantByDomain: true });
		expect(sim.findRequests({ host: 'login', method: 'GET', path: CONFIGURATION_PATH }).map((request) => request.path)).toEqual([
			`/${DOMAIN}/v2.0/.well-known/openid-configuration`,
		]);
		await fixture.deliver([callStarted()]);
		expect(harness.executions).toHaveLength(1);
	});

	it('never takes the tenant from the notification: a batch naming another tenant, with that tenant\'s token, runs nothing', async () => {
		const { harness, callStarted } = await activated({ tenantByDomain: true });
		const [result] = await fixture.deliver([callStarted({ tenantId: OTHER_TENANT })], {
			validationTokens: [fixture.sim.validationTokenFor(CLIENT_ID, OTHER_TENANT)],
		});
		expect(result.status).toBe(202);
		expect(harness.executions).toHaveLength(0);
		expect(warned(/could not be proven to come from Microsoft Graph: validation token 1 failed verification: jwt issuer invalid/)).toBe(true);
	});

	it('accepts the v2 issuer the configuration names', async () => {
		const { harness, callStarted } = await activated();
		const token = fixture.sim.validationTokenFor(CLIENT_ID, TENANT, { iss: `${fixture.sim.loginBaseUrl}/${TENANT}/v2.0`, ver: '2.0' });
		await fixture.deliver([callStarted()], { validationTokens: [token] });
		expect(harness.executions).toHaveLength(1);
	});
});

describe('a batch that cannot be verified yet is redelivered, not lost', () => {
	it('activates without keys when the login host is down, answers 503 meanwhile, and delivers once it is back', async () => {
		clock = useFakeDate();
		const { sim, harness, callStarted } = await activated({ loginDownAtActivation: true });
		expect(warned(/While activating workflow .*could not fetch the Microsoft identity platform's signing keys.*answered 503/)).toBe(true);
		const event = callStarted();
		const [first] = await fixture.deliver([event]);
		expect(first.status).toBe(503);
		expect(first.attempts[0].withinAckWindow).toBe(true);
		expect(harness.executions).toHaveLength(0);
		expect(warned(/Answered 503 to a notification batch so that Microsoft Graph delivers it again: the signing keys of tenant .* could not be fetched/)).toBe(true);
		sim.clearFaults();
		clock.advanceMinutes(1);
		const [again] = await fixture.deliver([event]);
		expect(again.status).toBe(202);
		expect(harness.executions).toHaveLength(1);
	});

	it('answers within Graph\'s window when the login host hangs, and fetches no more than once per cooldown', async () => {
		clock = useFakeDate();
		const { sim, harness, callStarted } = await activated({ loginDownAtActivation: true });
		sim.clearFaults();
		clock.advanceMinutes(1);
		sim.injectFault({ host: 'login', method: 'GET', pathPattern: CONFIGURATION_PATH, status: 200, delayMs: 4000, times: 1 });
		sim.clearRequests();
		const results = [];
		for (let index = 0; index < 3; index++) results.push(...(await fixture.deliver([callStarted()])));
		expect(results.map((result) => result.status)).toEqual([503, 503, 503]);
		expect(results.every((result) => result.attempts[0].responseTimeMs < 2000)).toBe(true);
		expect(harness.executions).toHaveLength(0);
		// The simulator logs a request once answered: wait out the hanging one.
		await new Promise((resolve) => setTimeout(resolve, 3500));
		expect(sim.countRequests({ host: 'login', path: CONFIGURATION_PATH })).toBe(1);
	});

	it('keeps verifying with keys older than their refresh age when the refresh fails, and says so', async () => {
		clock = useFakeDate();
		const { sim, harness, callStarted } = await activated();
		clock.advanceMinutes(25 * 60);
		loginHostDown(CONFIGURATION_PATH);
		await fixture.deliver([callStarted()]);
		for (let waited = 0; waited < 3000 && !warned(/signing keys fetched 25 h ago, because refreshing them failed/); waited += 50) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(warned(/signing keys fetched 25 h ago, because refreshing them failed/)).toBe(true);
		await fixture.deliver([callStarted()]);
		expect(harness.executions).toHaveLength(2);
		expect(sim.countRequests({ host: 'login', path: CONFIGURATION_PATH })).toBe(2);
	});

	it('answers 401 to a forged batch without asking the login host, even with no keys in memory', async () => {
		const { sim, callStarted } = await activated({ loginDownAtActivation: true });
		sim.clearRequests();
		const result = await sim.deliver(fixture.harness.url('notify'), {
			value: [callStarted({ clientState: 'a guess', subscriptionId: 'forged' })],
			validationTokens: [sim.validationTokenFor(CLIENT_ID, TENANT)],
		});
		await fixture.harness.settled();
		expect(result.status).toBe(401);
		expect(sim.countRequests({ host: 'login' })).toBe(0);
	});
});

/**
 * What a login-host outage does to a batch: measured, for the README. Graph redelivers non-2xx answers with
 * exponential back-off for up to 4 hours (graph-notifications.md §3); here "Graph" redelivers when told.
 */
describe.each([
	['10 s', 10 / 60],
	['5 minutes', 5],
	['1 hour', 60],
])('a login-host outage of %s', (_, outageMinutes) => {
	it('with keys in memory: every batch is verified and delivered', async () => {
		clock = useFakeDate();
		const { harness, callStarted } = await activated();
		loginHostDown();
		const [during] = await fixture.deliver([callStarted()]);
		clock.advanceMinutes(outageMinutes);
		const [end] = await fixture.deliver([callStarted()]);
		expect([during.status, end.status]).toEqual([202, 202]);
		expect(harness.executions).toHaveLength(2);
	});

	it('with keys past their refresh age: delivered with the stale keys (stale-if-error)', async () => {
		clock = useFakeDate();
		const { harness, callStarted } = await activated();
		clock.advanceMinutes(24 * 60);
		loginHostDown();
		const [during] = await fixture.deliver([callStarted()]);
		clock.advanceMinutes(outageMinutes);
		const [end] = await fixture.deliver([callStarted()]);
		expect([during.status, end.status]).toEqual([202, 202]);
		expect(harness.executions).toHaveLength(2);
	});

	it('with no keys yet: 503 during the outage, delivered on the first redelivery after it', async () => {
		clock = useFakeDate();
		const { sim, harness, callStarted } = await activated({ loginDownAtActivation: true });
		const event = callStarted();
		const [during] = await fixture.deliver([event]);
		clock.advanceMinutes(outageMinutes);
		sim.clearFaults();
		// Graph's next retry comes after its back-off; at least the fetch cooldown (30 s) after the last failure.
		clock.advanceMinutes(0.5);
		const [after] = await fixture.deliver([event]);
		expect([during.status, after.status]).toEqual([503, 202]);
		expect(harness.executions).toHaveLength(1);
	});
});
