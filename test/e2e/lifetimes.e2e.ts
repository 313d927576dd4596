/**
 * Scenarios 4, 6 and 5 of issue 3 in one real n8n whose Graph grants one-minute subscriptions:
 * continuity without traffic, lifecycle notifications and lost subscriptions, restarts.
 *
 * The node renews at half the lifetime (30 s) from its registerCron tick (every 10 s), so each renewal
 * lands 30-40 s after the previous one, 20-30 s before the subscription would expire.
 */
import type { StoredSubscription } from '../simulator';
import { E2eEnvironment, USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import { sleep } from './n8nProcess';
import { expectRenewedBeforeExpiry, renewalsOf, sampleLiveness, subscriptionCreates } from './renewalWatch';

const LIFETIME_MS = 60_000;
/** Scenario 4 watches this many lifetimes (N8N_E2E_LIFETIMES overrides, for a quicker local run). */
const LIFETIMES = Number(process.env.N8N_E2E_LIFETIMES ?? 5);
/** How long after /healthz/readiness a restarted n8n may take to have every subscription back. */
const RESTART_BOUND_MS = 30_000;

const [adele, bianca] = USERS;
const WATCHED = [adele, bianca];
let env: E2eEnvironment;
let workflow: TriggerWorkflow;

beforeAll(async () => {
	env = await E2eEnvironment.start({ simulator: { maxSubscriptionLifetimeMinutes: 1, minSubscriptionLifetimeMinutes: 0 } });
	workflow = await env.createTriggerWorkflow('Teams calls e2e (one-minute subscriptions)', {
		users: WATCHED.map((u) => u.id),
		options: { lifetimeMinutes: 1 },
	});
	await env.api.activate(workflow.id);
	await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id));
});

afterAll(async () => {
	if (env) {
		saveLogs('lifetimes', env.n8n.logs());
		await env.close();
	}
});

const creates = () => subscriptionCreates(env.sim);
const patchesOf = (id: string, since = 0) => renewalsOf(env.sim, id, since);
const liveOf = (userId: string) => env.live(workflow, userId);
const onlyLiveOf = (userId: string): StoredSubscription => {
	const live = liveOf(userId);
	if (live.length !== 1) throw new Error(`${userId} has ${live.length} live subscriptions`);
	return live[0];
};

/** A call event through Graph's side to each user's live subscription runs the workflow exactly once more each. */
async function expectEventsFlow(): Promise<void> {
	const before = (await env.runs(workflow)).length;
	for (const user of WATCHED) {
		const sub = onlyLiveOf(user.id);
		const [result] = await env.sim.sendBatch([env.sim.notificationFor(sub, env.sim.buildCallEvent(sub, { kind: 'started' }))]);
		expect(result.status).toBe(202);
	}
	const runs = await env.waitForRuns(workflow, before + WATCHED.length);
	expect(runs).toHaveLength(before + WATCHED.length);
	const items = runs.slice(before).flatMap((e) => env.itemsOf(e));
	expect(items.map((item) => item.userId).sort()).toEqual(WATCHED.map((u) => u.id).sort());
}

describe('real n8n with one-minute Graph subscriptions', () => {
	it(`4. continuity without traffic: alive for ${LIFETIMES} lifetimes, renewed, no gap, no duplicate`, async () => {
		const start = Date.now();
		const initial = WATCHED.map((u) => onlyLiveOf(u.id));
		const createsBefore = creates();
		const sampler = sampleLiveness(() => WATCHED.map((u) => [u.id, liveOf(u.id).length]));
		await sleep(LIFETIMES * LIFETIME_MS + 5_000);
		const { samples, gaps, duplicates } = sampler.stop();

		expect(samples).toBeGreaterThan(LIFETIMES * 200);
		expect(gaps).toEqual([]);
		expect(duplicates).toEqual([]);
		expect(creates()).toBe(createsBefore);
		for (const sub of initial) {
			// The same subscription, renewed again and again: never a moment past its expiry.
			expect(onlyLiveOf(sub.resource.split('/')[1]).id).toBe(sub.id);
			const patches = expectRenewedBeforeExpiry(env.sim, sub.id, LIFETIME_MS, LIFETIMES * LIFETIME_MS + 5_000);
			// Renewed at about half-life: 30-40 s apart, well inside the minute.
			const intervals = patches.slice(1).map((p, i) => p.time - patches[i].time);
			expect(Math.max(...intervals)).toBeLessThan(45_000);
		}
		process.stderr.write(
			`scenario 4: ${Math.round((Date.now() - start) / 1000)} s, ${samples} samples, ` +
				`${initial.map((s) => `${patchesOf(s.id).length} renewals`).join(', ')}\n`,
		);
		await expectEventsFlow();
	});

	it('6a. lifecycle reauthorizationRequired: a PATCH follows at once', async () => {
		const sub = onlyLiveOf(adele.id);
		// Send right after a timer renewal, so the next timer renewal is at least 30 s away.
		const lastPatch = patchesOf(sub.id).length;
		await waitFor('a timer renewal', () => patchesOf(sub.id).length > lastPatch, 50_000, 100);
		const sentAt = Date.now();
		const [result] = await env.sim.sendBatch([env.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		// One URL for notifications and lifecycle events.
		expect(result.url).toBe(workflow.notifyUrl);
		const patch = await waitFor('a PATCH after reauthorizationRequired', () => patchesOf(sub.id, sentAt)[0], 10_000, 100);
		expect(patch.status).toBe(200);
		expect(patch.time - sentAt).toBeLessThan(5_000);
		expect(liveOf(adele.id).map((s) => s.id)).toEqual([sub.id]);
	});

	it('6b. lifecycle subscriptionRemoved: recreated at once, no duplicate', async () => {
		const sub = onlyLiveOf(adele.id);
		const createsBefore = creates();
		env.sim.removeSubscription(sub.id);
		const sentAt = Date.now();
		const [result] = await env.sim.sendBatch([env.sim.lifecycleNotificationFor(sub, 'subscriptionRemoved')]);
		expect(result.status).toBe(202);
		const restored = await waitFor('a new subscription after subscriptionRemoved', () => liveOf(adele.id)[0], 15_000, 100);
		expect(restored.id).not.toBe(sub.id);
		process.stderr.write(`scenario 6b: recreated ${Date.now() - sentAt} ms after the lifecycle notification\n`);
		await sleep(2_000);
		expect(liveOf(adele.id)).toHaveLength(1);
		expect(creates()).toBe(createsBefore + 1);
	});

	it('6c. 404 on renewal: recreated by the timer, no duplicate', async () => {
		const sub = onlyLiveOf(bianca.id);
		const createsBefore = creates();
		const removedAt = Date.now();
		env.sim.removeSubscription(sub.id);
		// Half-life 30 s + tick 10 s: the renewal is due within 40 s.
		const failed = await waitFor('a PATCH answered 404', () => patchesOf(sub.id, removedAt).find((p) => p.status === 404), 50_000, 200);
		const restored = await waitFor('a new subscription after the 404', () => liveOf(bianca.id)[0], 15_000, 100);
		expect(restored.id).not.toBe(sub.id);
		process.stderr.write(`scenario 6c: 404 after ${failed.time - removedAt} ms, recreated after ${Date.now() - removedAt} ms\n`);
		await sleep(2_000);
		expect(liveOf(bianca.id)).toHaveLength(1);
		expect(creates()).toBe(createsBefore + 1);
		await expectEventsFlow();
	});

	it('5a. restart while the subscriptions are alive: kept and renewed, not duplicated', async () => {
		const before = WATCHED.map((u) => onlyLiveOf(u.id).id);
		const createsBefore = creates();
		await env.restart(() => sleep(2_000));
		const readyAt = env.n8n.readyAt;
		await sleep(RESTART_BOUND_MS);
		expect(creates()).toBe(createsBefore);
		expect(WATCHED.map((u) => onlyLiveOf(u.id).id)).toEqual(before);
		// The restarted timer keeps renewing them.
		for (const id of before) {
			await waitFor(`a renewal of ${id} after the restart`, () => patchesOf(id, readyAt).length > 0, 45_000, 500);
		}
		expect(WATCHED.map((u) => onlyLiveOf(u.id).id)).toEqual(before);
		await expectEventsFlow();
	});

	it(`5b. restart after every subscription expired: recreated within ${RESTART_BOUND_MS / 1000} s of readiness, no duplicates, events flow`, async () => {
		const old = WATCHED.map((u) => onlyLiveOf(u.id).id);
		const createsBefore = creates();
		await env.restart(() => {
			for (const id of old) env.sim.expireSubscription(id);
			expect(env.live(workflow)).toHaveLength(0);
		});
		const readyAt = env.n8n.readyAt;
		const recreated = await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id), RESTART_BOUND_MS);
		process.stderr.write(`scenario 5b: subscriptions back ${Date.now() - readyAt} ms after readiness\n`);
		expect(recreated.some((s) => old.includes(s.id))).toBe(false);
		await sleep(5_000);
		expect(env.live(workflow)).toHaveLength(WATCHED.length);
		expect(creates()).toBe(createsBefore + WATCHED.length);
		await expectEventsFlow();
	});
});
