/**
 * Issue 11 in a real n8n: one failure never stops the rest. A Graph outage during activation, an unknown
 * user among the watched ones, and Graph down while n8n starts: the trigger comes up (or stays up) on
 * its own, and n8n's log says why meanwhile.
 */
import type { StoredSubscription } from '../simulator';
import { E2eEnvironment, USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import { sleep } from './n8nProcess';

const [adele, bianca, cyril] = USERS;
const STRANGER = 'dddddddd-0000-4000-8000-00000000dead';
/** The timer ticks every 10 s and backs off 30 s after a failure, then 60 s. */
const RECOVERY_BOUND_MS = 90_000;
let env: E2eEnvironment;

beforeAll(async () => {
	env = await E2eEnvironment.start();
});

afterAll(async () => {
	if (env) {
		saveLogs('outage', env.n8n.logs());
		await env.close();
	}
});

const creates = () => env.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });

/** Graph delivers one call event for this subscription: it runs the workflow exactly once. */
async function callEventRunsOnce(workflow: TriggerWorkflow, sub: StoredSubscription, kind: 'started' | 'ended'): Promise<void> {
	const [result] = await env.sim.sendBatch([env.sim.notificationFor(sub, env.sim.buildCallEvent(sub, { kind }))]);
	expect(result.status).toBe(202);
	const runs = await waitFor('the call event ran the workflow', async () => {
		const found = await env.runs(workflow);
		return found.length === 1 ? found : undefined;
	});
	expect(runs[0]).toMatchObject({ mode: 'webhook', status: 'success' });
	expect(env.itemsOf(runs[0])).toEqual([expect.objectContaining({ event: kind === 'started' ? 'callStarted' : 'callEnded' })]);
}

async function deactivateAndWait(workflow: TriggerWorkflow): Promise<void> {
	await env.api.deactivate(workflow.id);
	await waitFor('unsubscribed', () => (env.live(workflow).length === 0 ? true : undefined), 30_000);
}

it('Graph answers 503 to subscription creation for 10 s during activation: the trigger subscribes on its own once Graph is back', async () => {
	const workflow = await env.createTriggerWorkflow('Teams calls e2e (outage at activation)', { users: [adele.id, bianca.id], options: {} });
	env.sim.injectFault({ method: 'POST', pathPattern: /\/subscriptions$/, host: 'graph', status: 503, times: 100_000 });
	await env.api.activate(workflow.id);
	await sleep(10_000);
	expect(env.live(workflow)).toHaveLength(0);
	env.sim.clearFaults();
	const backAt = Date.now();

	const live = await env.waitForSubscriptions(workflow, [adele.id, bianca.id], RECOVERY_BOUND_MS);
	process.stderr.write(`outage at activation: subscribed ${Math.round((Date.now() - backAt) / 1000)} s after Graph was back\n`);
	for (const subscription of live) expect(subscription.lifecycleNotificationUrl).toBe(workflow.notifyUrl);
	// Every handshake after the outage reached a registered webhook.
	expect(env.sim.handshakes.filter((h) => h.url.startsWith(workflow.notifyUrl) && h.outcome !== 'ok')).toEqual([]);
	expect(env.sim.handshakes.filter((h) => h.url.startsWith(workflow.lifecycleUrl))).toEqual([]);

	// The log named the real cause, for the workflow and each user, while it lasted.
	const log = env.n8n.logs();
	for (const user of [adele, bianca]) {
		expect(log).toMatch(new RegExp(`\\(${workflow.id}\\), node "Teams Call Trigger": while activating, the subscription for ${user.id} could not be made or checked; the renewal timer retries it\\..*503`));
	}

	await callEventRunsOnce(workflow, live.find((s) => s.resource.includes(adele.id))!, 'started');
	await deactivateAndWait(workflow);
});

it('an unknown user among the watched ones: the others deliver, and a failed execution names the user', async () => {
	const workflow = await env.createTriggerWorkflow('Teams calls e2e (unknown user)', { users: [cyril.id, STRANGER], options: {} });
	await env.api.activate(workflow.id);
	const [sub] = await env.waitForSubscriptions(workflow, [cyril.id]);
	expect(env.n8n.logs()).toMatch(new RegExp(`while activating, the subscription for ${STRANGER} could not be made or checked`));

	const failed = await waitFor(
		'a failed execution naming the unknown user',
		async () => (await env.executions(workflow)).find((e) => e.status === 'error'),
		30_000,
		1000,
	);
	expect(failed.data?.resultData?.error?.message).toMatch(new RegExp(`for ${STRANGER} alive failed .*This user has no subscription now`));

	await callEventRunsOnce(workflow, sub, 'ended');
	await deactivateAndWait(workflow);
});

it('Graph down while n8n starts: nothing is deleted, and call events keep running', async () => {
	const workflow = await env.createTriggerWorkflow('Teams calls e2e (outage at start)', { users: [adele.id, bianca.id], options: {} });
	await env.api.activate(workflow.id);
	const before = (await env.waitForSubscriptions(workflow, [adele.id, bianca.id])).map((s) => s.id).sort();

	await env.restart(() => {
		env.sim.clearRequests();
		env.sim.injectFault({ pathPattern: /\/subscriptions/, host: 'graph', status: 503, times: 100_000 });
	});
	await sleep(15_000);
	env.sim.clearFaults();
	expect(env.sim.countRequests({ method: 'DELETE', status: 204 })).toBe(0);
	expect(env.live(workflow).map((s) => s.id).sort()).toEqual(before);
	expect(creates()).toBe(0);
	expect(env.n8n.logs()).toMatch(/while activating, the subscription for .* could not be made or checked; the renewal timer retries it\..*503/);

	await callEventRunsOnce(workflow, env.live(workflow, bianca.id)[0], 'started');
	await deactivateAndWait(workflow);
});
