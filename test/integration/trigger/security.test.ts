import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { CLIENT_ID, startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/** Only what the running test logged. */
const logsOfThisTest = logsOfEachTest();

const [adele] = USERS;
let fixture: TriggerFixture;

afterEach(async () => fixture?.close());

async function activated(parameters: Record<string, unknown> = {}) {
	fixture = await startTriggerFixture({ users: [adele.id], ...parameters });
	await fixture.harness.activate();
	const sub = fixture.sim.subscriptions()[0] as StoredSubscription;
	const callStarted = (extra: Record<string, unknown> = {}) =>
		fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started', extra }));
	return { sim: fixture.sim, harness: fixture.harness, sub, callStarted };
}

const KEY_SET_PATH = /discovery\/v2\.0\/keys$/;
const keyFetches = () => fixture.sim.countRequests({ method: 'GET', path: KEY_SET_PATH });
const ignoredBecause = (reason: RegExp) =>
	logsOfThisTest().some((line) => line.level === 'warn' && /could not be proven to come from Microsoft Graph/.test(line.message) && reason.test(line.message));

describe('validation tokens', () => {
	it('accepts a batch whose token verifies, fetching the signing keys once for many batches', async () => {
		const { harness, callStarted } = await activated();
		for (let index = 0; index < 5; index++) await fixture.deliver([callStarted()]);
		expect(harness.executions).toHaveLength(5);
		expect(keyFetches()).toBe(1);
	});

	it.each([
		['no tokens at all', () => ({ validationTokens: null }), /carries no validationTokens/],
		['a token signed by a key Microsoft does not publish', () => ({ validationTokens: [fixture.sim.validationTokenFor(CLIENT_ID, TENANT, {}, { foreignKey: true })] }), /key the identity platform does not publish/],
		['an expired token', () => ({ validationTokens: [fixture.sim.validationTokenFor(CLIENT_ID, TENANT, { exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200 })] }), /jwt expired/],
		['a token for another app', () => ({ validationTokens: [fixture.sim.validationTokenFor('99999999-0000-4000-8000-000000000009', TENANT)] }), /jwt audience invalid/],
		['a token from another tenant', () => ({ validationTokens: [fixture.sim.validationTokenFor(CLIENT_ID, 'eeeeeeee-0000-4000-8000-00000000000e')] }), /jwt issuer invalid/],
		['a token not issued to Graph\'s publisher', () => ({ validationTokens: [fixture.sim.validationTokenFor(CLIENT_ID, TENANT, { azp: 'aaaaaaaa-1111-4111-8111-111111111111', appid: 'aaaaaaaa-1111-4111-8111-111111111111' })] }), /not issued to Microsoft Graph's notification publisher/],
		['garbage instead of a token', () => ({ validationTokens: ['<script>alert(1)</script>'] }), /is not a JWT/],
	])('runs nothing for %s', async (_, options, reason) => {
		const { harness, callStarted } = await activated();
		const [result] = await fixture.deliver([callStarted()], options());
		expect(result.status).toBe(202);
		expect(harness.executions).toHaveLength(0);
		expect(ignoredBecause(reason)).toBe(true);
	});

	it('accepts the v2 issuer form', async () => {
		const { harness, callStarted } = await activated();
		const token = fixture.sim.validationTokenFor(CLIENT_ID, TENANT, { iss: `${fixture.sim.loginBaseUrl}/${TENANT}/v2.0` });
		await fixture.deliver([callStarted()], { validationTokens: [token] });
		expect(harness.executions).toHaveLength(1);
	});

	it('refreshes the keys for an unknown key ID at most once per cooldown', async () => {
		const clock = useFakeDate();
		try {
			const { harness, callStarted } = await activated();
			const foreign = () => ({ validationTokens: [fixture.sim.validationTokenFor(CLIENT_ID, TENANT, {}, { foreignKey: true })] });
			await fixture.deliver([callStarted()]);
			await fixture.deliver([callStarted()], foreign());
			expect(keyFetches()).toBe(1);
			clock.advanceMinutes(1);
			for (let index = 0; index < 3; index++) await fixture.deliver([callStarted()], foreign());
			expect(keyFetches()).toBe(2);
			expect(harness.executions).toHaveLength(1);
		} finally {
			clock.restore();
		}
	});

	it('can be switched off by an option that says it weakens security', async () => {
		const { harness, callStarted } = await activated({ options: { skipValidationTokenCheck: true } });
		await fixture.deliver([callStarted()], { validationTokens: null });
		expect(harness.executions).toHaveLength(1);
		expect(keyFetches()).toBe(0);
	});
});

describe('duplicates', () => {
	it('runs the workflow once for a notification Graph delivers again, inside the window', async () => {
		const { harness, callStarted } = await activated();
		const event = callStarted();
		await fixture.deliver([event]);
		await fixture.deliver([event]);
		expect(harness.runs).toHaveLength(1);
		// Another call of the same user is not a duplicate.
		await fixture.deliver([callStarted()]);
		expect(harness.runs).toHaveLength(2);
	});

	it('runs it twice for a user who leaves and rejoins the same call', async () => {
		const { sim, harness, sub } = await activated();
		const callId = 'f00dbabe-0000-4000-8000-000000000002';
		const joined = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started', callId }));
		const left = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'ended', callId }));
		const rejoined = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started', callId }));
		for (const notification of [joined, left, rejoined, rejoined]) await fixture.deliver([notification]);
		expect(harness.runs.map((execution) => execution.items.map((item) => [item.json.event, item.json.callId]))).toEqual([
			[['callStarted', callId]],
			[['callEnded', callId]],
			[['callStarted', callId]],
		]);
	});

	it('tells a rejoin from the same event re-sent under a new notification ID by the event time', async () => {
		const { sim, harness, sub } = await activated();
		const callId = 'f00dbabe-0000-4000-8000-000000000003';
		const startedAt = (eventDateTime: string) => sim.buildCallEvent(sub, { kind: 'started', callId, extra: { eventDateTime } });
		const first = startedAt('2026-12-01T10:00:00.0000000Z');
		await fixture.deliver([sim.notificationFor(sub, first)]);
		await fixture.deliver([sim.notificationFor(sub, first)]);
		expect(harness.runs).toHaveLength(1);
		await fixture.deliver([sim.notificationFor(sub, startedAt('2026-12-01T10:04:00.0000000Z'))]);
		expect(harness.runs).toHaveLength(2);
	});

	it('runs nothing for a redelivery hours later: n8n\'s store keeps identities by count, not by age', async () => {
		const clock = useFakeDate();
		try {
			const { harness, callStarted } = await activated({ options: { skipValidationTokenCheck: true } });
			const event = callStarted();
			await fixture.deliver([event]);
			clock.advanceMinutes(5 * 60 + 1);
			await fixture.deliver([event]);
			expect(harness.executions).toHaveLength(2);
			expect(harness.runs).toHaveLength(1);
		} finally {
			clock.restore();
		}
	});

	it('keeps started and ended of the same call apart', async () => {
		const { sim, harness, sub } = await activated();
		const callId = 'f00dbabe-0000-4000-8000-000000000001';
		await fixture.deliver([
			sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started', callId })),
			sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'ended', callId })),
		]);
		expect(harness.executions[0].items.map((item) => item.json.event)).toEqual(['callStarted', 'callEnded']);
	});
});

describe('replays', () => {
	it('answers 401 to a replay after the subscription was deleted', async () => {
		const { harness, callStarted } = await activated();
		const event = callStarted();
		await harness.deactivate();
		const [result] = await fixture.deliver([event], { url: harness.url('notify') });
		expect(result.status).toBe(401);
		expect(harness.executions).toHaveLength(0);
	});
});
