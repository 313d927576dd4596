/**
 * The n8n setting the README suggests for busy instances, N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true: the
 * trigger activates, turns call events into items and deactivates as under n8n's defaults, and n8n builds
 * no expression isolate for a notification batch (it logs "Runtime bundle loaded" for each one it builds).
 */
import { E2eEnvironment, USERS, waitFor } from './e2eEnvironment';
import { saveLogs } from './logs';
import { sleep } from './n8nProcess';

const [adele] = USERS;
let env: E2eEnvironment;

beforeAll(async () => {
	env = await E2eEnvironment.start({ n8nEnv: { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } });
});

afterAll(async () => {
	if (env) {
		saveLogs('lazyIsolates', env.n8n.logs());
		await env.close();
	}
});

it('with lazily acquired isolates: subscribes, runs call events without building an isolate, unsubscribes', async () => {
	const workflow = await env.createTriggerWorkflow('Teams calls, lazy isolates', { users: [adele.id], options: {} });
	await env.api.activate(workflow.id);
	const [sub] = await env.waitForSubscriptions(workflow, [adele.id]);

	const before = env.isolatesBuilt();
	const events = [env.sim.buildCallEvent(sub, { kind: 'started' }), env.sim.buildCallEvent(sub, { kind: 'ended' })];
	for (const [index, event] of events.entries()) {
		const [result] = await env.sim.sendBatch([env.sim.notificationFor(sub, event)]);
		expect(result.status).toBe(202);
		await env.waitForRuns(workflow, index + 1);
	}
	const executions = await env.waitForRuns(workflow, 2);
	expect(await env.executions(workflow)).toHaveLength(2);
	expect(executions.map((execution) => execution.status)).toEqual(['success', 'success']);
	expect(executions.map((execution) => env.itemsOf(execution)[0].event)).toEqual(['callStarted', 'callEnded']);
	await sleep(1000);
	expect(env.isolatesBuilt()).toBe(before);

	await env.api.deactivate(workflow.id);
	await waitFor('unsubscribed', () => (env.live(workflow).length === 0 ? true : undefined), 30_000);
	expect(env.sim.getSubscription(sub.id)?.state).toBe('deleted');
});
