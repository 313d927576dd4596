/**
 * Two activations of one workflow (two mains' hooks and timers) sharing one database and one public webhook
 * URL, run in this one process. Here they share the process's per-trigger lock, so their Graph calls take
 * turns: this proves that whichever order they run in, they converge to one subscription per user and either
 * saved state (the last save wins) verifies the notifications. Two real mains racing in separate processes are
 * test/e2e/twoMains.e2e.ts.
 */
import { useFakeDate } from '../../support/fakeClock';
import { TriggerHarness } from '../../support/n8nTriggerHarness';
import { appCredentialFor, certificateCredential, startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';

const [adele, bianca, cyril] = USERS;
const WATCHED = [adele, bianca, cyril];
let fixture: TriggerFixture;
let second: TriggerHarness | undefined;
let clock: ReturnType<typeof useFakeDate>;

beforeEach(() => {
	clock = useFakeDate();
});
afterEach(async () => {
	await second?.close();
	second = undefined;
	await fixture?.close();
	clock.restore();
});

async function twoMains(): Promise<{ first: TriggerHarness; second: TriggerHarness }> {
	fixture = await startTriggerFixture({ users: WATCHED.map((u) => u.id) });
	second = await TriggerHarness.start({
		parameters: { users: WATCHED.map((u) => u.id) },
		appCredential: appCredentialFor(fixture.sim),
		certificateCredential,
	});
	// Both mains publish the same URL (N8N_WEBHOOK_URL); the first one's server answers it.
	second.baseUrl = fixture.harness.baseUrl;
	return { first: fixture.harness, second };
}

/** One call event per watched user to the live subscription, with `saved` as the database's state. */
async function deliveredWith(saved: string): Promise<number> {
	const { sim, harness } = fixture;
	harness.savedStaticData = saved;
	const before = harness.executions.length;
	for (const user of WATCHED) {
		const [live] = sim.subscriptions().filter((s) => s.resource.includes(user.id));
		const [result] = await fixture.deliver([sim.notificationFor(live, sim.buildCallEvent(live, { kind: 'started' }))]);
		expect(result.status).toBe(202);
	}
	return harness.executions.length - before;
}

describe('activation reads the certificate credential', () => {
	it('once, however many users it subscribes (it also derives their clientStates from it)', async () => {
		fixture = await startTriggerFixture({ users: WATCHED.map((u) => u.id) });
		await fixture.harness.activate();
		expect(fixture.sim.subscriptions()).toHaveLength(WATCHED.length);
		expect(fixture.harness.credentialReads.microsoftGraphNotificationCertificateApi).toBe(1);
	});
});

describe('two activations of the same workflow in one process (they take turns on its lock)', () => {
	it('converge to one subscription per user, and either saved state verifies their notifications', async () => {
		const { first, second } = await twoMains();
		await Promise.all([first.activate('init'), second.activate('init')]);
		const savedByFirst = first.savedStaticData;
		const savedBySecond = second.savedStaticData;

		const live = fixture.sim.subscriptions();
		expect(live.map((s) => s.resource).sort()).toEqual(WATCHED.map((u) => `users/${u.id}/callConversations`).sort());
		expect(await deliveredWith(savedByFirst)).toBe(WATCHED.length);
		expect(await deliveredWith(savedBySecond)).toBe(WATCHED.length);
	});

	it('two overlapping leaders renew by PATCH only: no second subscription for anyone', async () => {
		const { first, second } = await twoMains();
		await Promise.all([first.activate('init'), second.activate('init')]);
		await Promise.all([first.startTrigger('init'), second.startTrigger('init')]);
		const createsBefore = fixture.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
		// Past half-life: both timers find every renewal due at the same moment.
		clock.advanceMinutes(721);
		await Promise.all([first.tick(), second.tick()]);
		expect(fixture.sim.countRequests({ method: 'PATCH', path: /\/subscriptions\// })).toBeGreaterThanOrEqual(WATCHED.length);
		expect(fixture.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ })).toBe(createsBefore);
		expect(fixture.sim.subscriptions()).toHaveLength(WATCHED.length);
	});
});
