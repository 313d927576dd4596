/**
 * Issue 21: two `n8n start` mains on one Postgres and Redis (test/e2e/queueMode.ts with `mains: 2`), a
 * webhook process and a worker. n8n runs several mains in step only with its multi-main licence; two
 * ordinary mains have no leader election, so each counts itself the leader and runs every active trigger's
 * renewal timer: the worst case multi-main can produce. Neither main tells the other about an activation or a
 * deactivation; a main learns of an active workflow only when it starts.
 *
 * Counted throughout, every 250 ms, from Graph's side: how many live subscriptions each watched user has.
 */
import { USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import type { N8nApi } from './n8nApi';
import { sleep, type N8nProcess } from './n8nProcess';
import { QueueModeEnvironment } from './queueMode';
import { sampleLiveness, subscriptionCreates, type LivenessSamples } from './renewalWatch';

const LIFETIME_MS = 60_000;
/** Two lifetimes with both timers running: each subscription falls due for renewal at least three times. */
const WATCH_MS = 2 * LIFETIME_MS + 5_000;
/**
 * After a deactivation, longer than a lifetime: the other main's timer falls due (at half-life) and finds the
 * subscriptions gone within this window, and anything it made would still be live at its end.
 */
const AFTER_DEACTIVATION_MS = LIFETIME_MS + 15_000;

const [adele, bianca] = USERS;
const WATCHED = [adele, bianca];

let env: QueueModeEnvironment;
let workflow: TriggerWorkflow;
let first: N8nProcess;
let second: N8nProcess;
let firstApi: N8nApi;
let secondApi: N8nApi;

beforeAll(async () => {
	const startedAt = Date.now();
	env = await QueueModeEnvironment.start({
		simulator: { maxSubscriptionLifetimeMinutes: 1, minSubscriptionLifetimeMinutes: 0 },
		mains: 2,
		webhookProcesses: 1,
	});
	[first, second] = env.mainProcesses();
	firstApi = await env.apiOn(first);
	secondApi = await env.apiOn(second);
	process.stderr.write(`two mains: Postgres, Redis, 2 mains, webhook process, worker ready in ${Math.round((Date.now() - startedAt) / 1000)} s\n`);
	workflow = await env.createTriggerWorkflow('Teams calls e2e (two mains)', { users: WATCHED.map((u) => u.id), options: { lifetimeMinutes: 1 } }, { removeDuplicates: false });
});

afterAll(async () => {
	if (env) {
		saveLogs('twoMains', env.logs());
		await env.close();
	}
});

const liveCounts = (): Array<[string, number]> => WATCHED.map((u) => [u.id, env.live(workflow, u.id).length]);
const patches = (since: number) => env.sim.findRequests({ method: 'PATCH', path: /\/subscriptions\/[^/]+$/ }).filter((r) => r.time >= since);

/** Restarts one main (n8n activates the workflow again there at start-up) while the other's timer renews. */
async function restart(main: N8nProcess, api: N8nApi): Promise<void> {
	await main.stop();
	await main.start();
	await api.login();
}

/** Watches `ms` and returns the samples, the creations and the renewals made meanwhile. */
async function watch(ms: number): Promise<{ samples: LivenessSamples; creates: number; createsAccepted: number; renewals: number; failedRenewals: number }> {
	const since = Date.now();
	const sampler = sampleLiveness(liveCounts);
	await sleep(ms);
	const samples = sampler.stop();
	const renewals = patches(since);
	const creates = env.sim.findRequests({ method: 'POST', path: /\/subscriptions$/ }).filter((r) => r.time >= since);
	return {
		samples,
		creates: creates.length,
		createsAccepted: creates.filter((r) => r.status === 201).length,
		renewals: renewals.length,
		failedRenewals: renewals.filter((r) => r.status !== 200).length,
	};
}

/**
 * n8n 2.41's publication reconciler (every 10 s, on each main) stops the triggers of a workflow the database
 * no longer publishes; until it does, the other main's timer may find the subscriptions gone and try to make
 * them again. Graph refuses: it validates the notification URL first, and n8n no longer serves it.
 */
async function expectTimerStoppedOn(main: N8nProcess, deactivatedAt: number): Promise<number> {
	const stoppedAt = await waitFor(
		'the other main to stop the trigger',
		() => {
			const line = main
				.logs()
				.split('\n')
				.find((l) => l.includes('Deregistered all crons') && Date.parse(l.slice(0, 24)) >= deactivatedAt);
			return line ? Date.parse(line.slice(0, 24)) : undefined;
		},
		30_000,
	);
	expect(stoppedAt - deactivatedAt).toBeLessThan(15_000);
	return stoppedAt - deactivatedAt;
}

function report(step: string, seen: Awaited<ReturnType<typeof watch>>): void {
	process.stderr.write(
		`two mains, ${step}: ${seen.samples.samples} samples, ${seen.samples.gaps.length} without a subscription, ${seen.samples.duplicates.length} with two or more, ` +
			`${seen.creates} creations asked (${seen.createsAccepted} accepted), ${seen.renewals} renewals (${seen.failedRenewals} failed)\n`,
	);
}

describe('two n8n mains on one Postgres and Redis, both running the renewal timer', () => {
	it('1. activated on the first main: one subscription per user', async () => {
		await firstApi.activate(workflow.id);
		await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id));
		expect(subscriptionCreates(env.sim)).toBe(WATCHED.length);
	});

	it('2. the second main restarted while the first renews, then both renew for two lifetimes: one subscription per user at every sample, no second one made', async () => {
		const sampler = sampleLiveness(liveCounts);
		const createsBefore = subscriptionCreates(env.sim);
		const ids = env.live(workflow).map((s) => s.id).sort();
		await restart(second, secondApi);
		const during = sampler.stop();
		// The second main took the workflow up at start-up, and runs its timer too.
		await waitFor('the second main to register the renewal timer', () => second.logs().includes('Registered cron') || undefined, 30_000);
		const seen = await watch(WATCH_MS);
		report('both renewing', seen);
		expect(during.gaps).toEqual([]);
		expect(during.duplicates).toEqual([]);
		expect(seen.samples.samples).toBeGreaterThan((WATCH_MS / 250) * 0.9);
		expect(seen.samples.gaps).toEqual([]);
		expect(seen.samples.duplicates).toEqual([]);
		expect(subscriptionCreates(env.sim)).toBe(createsBefore);
		expect(env.live(workflow).map((s) => s.id).sort()).toEqual(ids);
		expect(seen.failedRenewals).toBe(0);
		// Each subscription renewed at least once per half-lifetime of the watch.
		expect(seen.renewals).toBeGreaterThanOrEqual(WATCHED.length * Math.floor(WATCH_MS / (LIFETIME_MS / 2)));
	});

	it('3. the first main restarted while the second renews: still one subscription per user at every sample', async () => {
		const ids = env.live(workflow).map((s) => s.id).sort();
		const createsBefore = subscriptionCreates(env.sim);
		const sampler = sampleLiveness(liveCounts);
		await restart(first, firstApi);
		const seen = await watch(LIFETIME_MS);
		const during = sampler.stop();
		report('after the first main restarted', seen);
		expect(during.gaps).toEqual([]);
		expect(during.duplicates).toEqual([]);
		expect(subscriptionCreates(env.sim)).toBe(createsBefore);
		expect(env.live(workflow).map((s) => s.id).sort()).toEqual(ids);
	});

	it('4. deactivated on the second main while the first still runs its timer: none left, and none made again', async () => {
		const deactivatedAt = Date.now();
		await secondApi.deactivate(workflow.id);
		await waitFor('the subscriptions deleted', () => (env.live(workflow).length === 0 ? true : undefined), 30_000);
		const seen = await watch(AFTER_DEACTIVATION_MS);
		const stoppedAfter = await expectTimerStoppedOn(first, deactivatedAt);
		report(`after deactivation on the second main (the first stopped its timer ${stoppedAfter} ms later)`, seen);
		expect(seen.samples.gaps).toHaveLength(seen.samples.samples * WATCHED.length);
		expect(seen.createsAccepted).toBe(0);
		expect(env.live(workflow)).toEqual([]);
	});

	it('5. activated again on the first main, the second restarted so both hold it, then deactivated on the first: none left', async () => {
		await firstApi.activate(workflow.id);
		await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id));
		await restart(second, secondApi);
		await sleep(LIFETIME_MS / 2);
		expect(env.live(workflow)).toHaveLength(WATCHED.length);
		const deactivatedAt = Date.now();
		await firstApi.deactivate(workflow.id);
		await waitFor('the subscriptions deleted', () => (env.live(workflow).length === 0 ? true : undefined), 30_000);
		const seen = await watch(AFTER_DEACTIVATION_MS);
		const stoppedAfter = await expectTimerStoppedOn(second, deactivatedAt);
		report(`after deactivation on the first main (the second stopped its timer ${stoppedAfter} ms later)`, seen);
		expect(seen.samples.gaps).toHaveLength(seen.samples.samples * WATCHED.length);
		expect(seen.createsAccepted).toBe(0);
		expect(env.live(workflow)).toEqual([]);
		const logs = env.logs();
		expect(logs).not.toContain('PRIVATE KEY');
		expect(logs).not.toContain(env.clientSecret);
	});
});
