/**
 * Several n8n mains (multi-main, or two mains started by mistake) share one database and one public
 * webhook URL. n8n runs checkExists/create on every main at `init`, and two leaders can overlap for a
 * moment, so two activations' hooks and two renewal timers may run at once for the same workflow.
 * They must converge to one subscription per user, and whichever activation's state the database
 * keeps (the last save wins) must verify the notifications of the subscriptions left alive.
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

describe('two mains activating the same workflow at once', () => {
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
