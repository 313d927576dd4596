/**
 * Issue 13: the trigger in a real queue-mode n8n 2.41.1 (test/e2e/queueMode.ts): Postgres, Redis, a
 * main, a webhook process and a worker behind one public address, Graph granting one-minute
 * subscriptions so that renewal and recreation happen within minutes.
 *
 * Who did what is counted from each process's own log ("Enqueued execution N" on the process that
 * received the webhook, "Worker finished execution N" on the worker) and from the public address's
 * routing log. The simulator cannot tell n8n processes apart, so "the webhook process and the worker
 * never write to Graph" is measured with the main stopped: any subscription write in that window came
 * from them.
 */
import type { DeliveryResult, StoredCallRecord, StoredSubscription } from '../simulator';
import { graphDateTime } from '../simulator/ids';
import { CLIENT_ID, TENANT, USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import { runsOf, type N8nExecution } from './n8nApi';
import { sleep } from './n8nProcess';
import { ONCE_PER_CALL_EVENT, QueueModeEnvironment } from './queueMode';

const LIFETIME_MS = 60_000;
const RENEWAL_LIFETIMES = Number(process.env.N8N_E2E_QUEUE_LIFETIMES ?? 3);
/** How long after the main's readiness the subscriptions must be back (scenario 5). */
const RECOVERY_BOUND_MS = 30_000;

/** Scenario 6: Graph's pace, and the window before a SIGKILL that the log reports on. */
const STREAM_INTERVAL_MS = 500;
const KILL_WINDOW_MS = 2_000;

interface StreamedEvent {
	callId: string;
	requestId: string;
	result?: DeliveryResult;
}

const [adele, bianca] = USERS;
const WATCHED = [adele, bianca];
const STANDUP = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_cXVldWUtbW9kZS1zdGFuZHVw%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
const STANDUP_RESOURCE = `communications/onlineMeetings(joinWebUrl='${encodeURIComponent(STANDUP)}')/meetingCallEvents`;
/** Scenario 12: how long Graph cannot return the records notified before the webhook processes stop. */
const RECORDS_PENDING_MS = 30_000;
/** Scenario 13: Redis down this long (n8n's processes give up on Redis after 10 s: QUEUE_BULL_REDIS_TIMEOUT_THRESHOLD). */
const REDIS_DOWN_MS = 4_000;
/** The trigger's first sweep for missed records comes this long after its timer starts. */
const FIRST_SWEEP_DELAY_MS = 60_000;
let env: QueueModeEnvironment;
let workflow: TriggerWorkflow;

beforeAll(async () => {
	const startedAt = Date.now();
	env = await QueueModeEnvironment.start({
		simulator: { maxSubscriptionLifetimeMinutes: 1, minSubscriptionLifetimeMinutes: 0 },
		webhookProcesses: 2,
		appPermissions: ['CallEvents.Read.All', 'User.Read.All', 'CallRecords.Read.All', 'OnlineMeetings.Read.All'],
		// Manual runs go to the workers, as they always do in n8n 3 (scenarios 8 and 15); production runs are unaffected.
		n8nEnv: { OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true' },
	});
	process.stderr.write(`queue mode: Postgres, Redis, main, 2 webhook processes, worker ready in ${Math.round((Date.now() - startedAt) / 1000)} s\n`);
	env.sim.addMeeting(STANDUP, adele.id);
	env.sim.grantMeetingAccessPolicy(CLIENT_ID);
	workflow = await env.createTriggerWorkflow('Teams calls e2e (queue mode)', {
		users: WATCHED.map((u) => u.id),
		options: { lifetimeMinutes: 1 },
	});
});

afterAll(async () => {
	if (env) {
		saveLogs('queueMode', env.logs());
		await env.close();
	}
});

const subscriptionWrites = (since: number) =>
	env.sim
		.findRequests({ host: 'graph', path: /\/subscriptions(\/[^/]+)?$/ })
		.filter((r) => r.time >= since && r.method !== 'GET');
const creates = () => env.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
const patchesOf = (id: string, since = 0) =>
	env.sim.findRequests({ method: 'PATCH', path: new RegExp(`/subscriptions/${id}$`) }).filter((r) => r.time >= since);
const onlyLiveOf = (userId: string): StoredSubscription => {
	const live = env.live(workflow, userId);
	if (live.length !== 1) throw new Error(`${userId} has ${live.length} live subscriptions`);
	return live[0];
};

/** One call event per watched user through Graph's side; returns what was sent. */
async function sendOneEventPerUser(): Promise<Array<{ userId: string; callId: unknown; subscriptionId: string }>> {
	const sent = [];
	for (const user of WATCHED) {
		const sub = onlyLiveOf(user.id);
		const event = env.sim.buildCallEvent(sub, { kind: 'started' });
		const [result] = await env.sim.sendBatch([env.sim.notificationFor(sub, event)]);
		expect(result.status).toBe(202);
		sent.push({ userId: user.id, callId: event.callId, subscriptionId: sub.id });
	}
	return sent;
}

/**
 * The sent events ran the workflow (runs: executions past the trigger), each once, each run by the worker from a
 * job a webhook process enqueued. `before`: the workflow's runs before they were sent.
 */
async function expectRunByWorker(before: number, sent: Array<{ userId: string; callId: unknown; subscriptionId: string }>): Promise<void> {
	const executions = (await env.waitForRuns(workflow, before + sent.length)).slice(before);
	expect(executions).toHaveLength(sent.length);
	const items = executions.flatMap((e) => env.itemsOf(e));
	expect(items.map((i) => i.callId).sort()).toEqual(sent.map((s) => s.callId).sort());
	for (const item of items) {
		const from = sent.find((s) => s.callId === item.callId)!;
		expect(item).toMatchObject({ event: 'callStarted', userId: from.userId, subscriptionId: from.subscriptionId, tenantId: TENANT });
	}
	for (const execution of executions) expect(execution).toMatchObject({ mode: 'webhook', status: 'success' });
	await expectQueuedByWebhookRunByWorker(executions);
	expect(env.executionIdsIn(env.main, 'Enqueued execution')).toEqual([]);
}

/** Each execution was enqueued by a webhook process and finished by the worker, as their logs say. */
async function expectQueuedByWebhookRunByWorker(executions: Array<{ id: string }>): Promise<void> {
	const enqueuedByWebhook = env.webhookProcesses().flatMap((p) => env.executionIdsIn(p, 'Enqueued execution'));
	const finishedByWorker = await waitFor(
		'the worker to log the executions',
		() => {
			const ids = env.executionIdsIn(env.worker, 'Worker finished execution');
			return executions.every((e) => ids.includes(e.id)) ? ids : undefined;
		},
		10_000,
	);
	for (const execution of executions) {
		expect(enqueuedByWebhook).toContain(execution.id);
		expect(finishedByWorker).toContain(execution.id);
	}
}

/**
 * The execution the worker finished after those it had finished in `finishedBefore`, found by the worker's log and
 * read by ID: n8n's execution list leaves out executions the main counts as running, and once a finished offloaded
 * manual run did not show up in the list within 60 s.
 */
async function manualExecutionFinishedByWorker(finishedBefore: string[], timeoutMs = 60_000): Promise<N8nExecution> {
	const id = await waitFor(
		'the worker to finish the manual execution',
		() => env.executionIdsIn(env.worker, 'Worker finished execution').find((e) => !finishedBefore.includes(e)),
		timeoutMs,
		500,
	);
	const read = await env.api.public<N8nExecution>('GET', `/executions/${id}?includeData=true`);
	expect(read.status).toBe(200);
	return read.body;
}

describe('real queue-mode n8n: main, two webhook processes, worker, Postgres, Redis', () => {
	it('1. activate on the main: exactly one subscription per user, the handshakes answered by the webhook processes', async () => {
		const routedBefore = env.publicAddress.log.length;
		await env.api.activate(workflow.id);
		const subscriptions = await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id));
		await sleep(5_000);
		expect(env.live(workflow)).toHaveLength(WATCHED.length);
		expect(creates()).toBe(WATCHED.length);
		for (const sub of subscriptions) expect(sub.notificationUrl).toBe(workflow.notifyUrl);

		const handshakes = env.sim.handshakes.filter((h) => h.url.startsWith(workflow.notifyUrl));
		// The notification and lifecycle URL of each subscription (the same URL).
		expect(handshakes.filter((h) => h.outcome === 'ok')).toHaveLength(2 * WATCHED.length);
		expect(env.sim.handshakes.filter((h) => h.outcome !== 'ok')).toEqual([]);
		const routed = env.publicAddress.log.slice(routedBefore).filter((r) => r.path.includes('validationToken='));
		expect(routed).toHaveLength(2 * WATCHED.length);
		// Round robin: each webhook process answered some of them.
		expect(new Set(routed.map((r) => `${r.upstream} ${r.status}`))).toEqual(new Set(['webhook-0 200', 'webhook-1 200']));
	});

	it('2. call events to the webhook process run on the worker with decrypted items; no Graph write from webhook or worker', async () => {
		let before = (await env.runs(workflow)).length;
		const sentWhileUp = await sendOneEventPerUser();
		await expectRunByWorker(before, sentWhileUp);

		// The main stopped: notifications still reach the webhook process and run on the worker.
		let stoppedAt = 0;
		let restartingAt = 0;
		let sentWhileDown: Array<{ userId: string; callId: unknown; subscriptionId: string }> = [];
		before = (await env.runs(workflow)).length;
		const finishedBefore = env.executionIdsIn(env.worker, 'Worker finished execution').length;
		await env.restartMain(async () => {
			stoppedAt = Date.now();
			sentWhileDown = await sendOneEventPerUser();
			// Long enough for any reaction of the webhook process or the worker to reach Graph.
			await sleep(5_000);
			// The worker's executions finish while the main is down (its log says so).
			await waitFor('the worker to finish the executions sent while the main was down', () => env.executionIdsIn(env.worker, 'Worker finished execution').length >= finishedBefore + sentWhileDown.length, 30_000);
			restartingAt = Date.now();
		});
		expect(subscriptionWrites(stoppedAt).filter((r) => r.time < restartingAt)).toEqual([]);
		await expectRunByWorker(before, sentWhileDown);
		process.stderr.write(`scenario 2: ${sentWhileUp.length + sentWhileDown.length} events, main down ${Math.round((restartingAt - stoppedAt) / 1000)} s with no subscription write\n`);
	});

	it('7. the same call event delivered to each webhook process in turn: an execution each, queued before its 202; the workflow runs once (n8n\'s database remembers it for every process), and n8n\'s Remove Duplicates node passes it once', async () => {
		// The main restarted in scenario 2: on a slow machine a subscription can expire before the main is back.
		await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id), 60_000);
		const sub = onlyLiveOf(adele.id);
		const event = env.sim.buildCallEvent(sub, { kind: 'started' });
		const item = env.sim.notificationFor(sub, event);
		const before = (await env.executions(workflow)).length;
		const runsBefore = (await env.runs(workflow)).length;
		const stored = new Set(await env.api.storedExecutionIds(workflow.id));
		const routedBefore = env.publicAddress.log.length;
		// A delivery, then the same notification again (a load balancer's retry, or Graph's after a lost 2xx),
		// each after the previous one's execution finished; the third reaches the first process again.
		for (let delivery = 0; delivery < 3; delivery++) {
			const [result] = await env.sim.sendBatch([item]);
			expect(result.status).toBe(202);
			// The webhook process answers once the execution is stored and queued: it is there the moment the 202 is.
			expect((await env.api.storedExecutionIds(workflow.id)).filter((id) => !stored.has(id))).toHaveLength(delivery + 1);
			await env.waitForExecutions(workflow, before + delivery + 1);
		}
		await sleep(3_000);
		const deliveries = env.publicAddress.log.slice(routedBefore).filter((r) => r.method === 'POST' && r.path.startsWith('/webhook/'));
		expect(deliveries.map((r) => r.status)).toEqual([202, 202, 202]);
		expect(deliveries[0].upstream).not.toBe(deliveries[1].upstream);
		expect(deliveries[2].upstream).toBe(deliveries[0].upstream);

		const executions = (await env.waitForExecutions(workflow, before + 3)).slice(before);
		expect(executions).toHaveLength(3);
		await expectQueuedByWebhookRunByWorker(executions);
		// What ran is kept in n8n's database (Postgres), which the worker asks whichever process took the
		// delivery: the first execution runs the workflow, the two after it end at the trigger.
		expect(executions.map((e) => env.itemsOf(e).map((i) => i.callId))).toEqual([[event.callId], [], []]);
		env.expectEndedAtTrigger(executions.slice(1));
		expect(await env.runs(workflow)).toHaveLength(runsBefore + 1);
		// n8n's own Remove Duplicates node after the trigger lets the event through in that run.
		expect(runsOf(executions).map((e) => env.itemsOf(e, ONCE_PER_CALL_EVENT).map((i) => i.callId))).toEqual([[event.callId]]);
		process.stderr.write(`scenario 7: deliveries to ${deliveries.map((d) => d.upstream).join(', ')} -> ${executions.length} executions, ${runsOf(executions).length} run\n`);
	});

	it('6. a webhook process restarted mid-stream (SIGTERM), another killed (SIGKILL): every call event Graph delivered, retrying, runs on the worker', async () => {
		// Fixed for the whole stream: the main renews them in place (PATCH), the webhook processes never touch them.
		const subscriptions = await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id), 60_000);
		const before = (await env.executions(workflow)).length;
		const runsBefore = (await env.runs(workflow)).length;
		const createsBefore = creates();
		const sent: StreamedEvent[] = [];
		const deliveries: Array<Promise<void>> = [];
		let streaming = true;
		// Graph's side: one call event every STREAM_INTERVAL_MS, each delivered with Graph's retries
		// (exponential back-off from 1 s), whatever the processes behind the balancer are doing.
		const stream = (async () => {
			for (let n = 0; streaming; n++) {
				const sub = subscriptions[n % subscriptions.length];
				const event = env.sim.buildCallEvent(sub, { kind: 'started' });
				const entry: StreamedEvent = { callId: String(event.callId), requestId: `scenario-6-${n}` };
				sent.push(entry);
				const delivery = env.sim.sendBatch([env.sim.notificationFor(sub, event)], {
					retries: 8,
					retryDelayMs: 1_000,
					headers: { 'X-Request-Id': entry.requestId },
				});
				deliveries.push(delivery.then(([result]) => void (entry.result = result)));
				await sleep(STREAM_INTERVAL_MS);
			}
		})();
		// A balancer keeps sending to a stopped process until its health check notices: those get a 502.
		env.publicAddress.healthChecks = false;
		let sigtermAt = 0;
		let killedAt = 0;
		try {
			await sleep(3_000);
			sigtermAt = Date.now();
			await env.webhook(0).stop();
			await env.webhook(0).start();
			await sleep(3_000);
			killedAt = await env.kill(env.webhook(1));
			await env.webhook(1).start();
			await sleep(3_000);
		} finally {
			streaming = false;
			await stream;
			env.publicAddress.healthChecks = true;
		}
		await Promise.all(deliveries);

		const routed = (event: StreamedEvent) => env.publicAddress.log.filter((r) => r.requestId === event.requestId);
		expect(sent.filter((e) => !e.result?.delivered).map((e) => e.requestId)).toEqual([]);
		// Every delivery n8n stored is an execution; one whose event already ran ends at the trigger.
		await env.waitForRuns(workflow, runsBefore + sent.length, 120_000);
		await sleep(5_000);
		const executions = (await env.waitForExecutions(workflow, before + sent.length)).slice(before);
		const runs = new Map<string, number>();
		for (const execution of executions) {
			expect(execution).toMatchObject({ mode: 'webhook', status: 'success' });
			for (const item of env.itemsOf(execution)) runs.set(String(item.callId), (runs.get(String(item.callId)) ?? 0) + 1);
		}
		const attempts = sent.reduce((sum, e) => sum + (e.result?.attempts.length ?? 0), 0);
		const endedAtTrigger = executions.length - runsOf(executions).length;
		const lost = sent.filter((e) => !runs.has(e.callId));
		const twice = sent.filter((e) => (runs.get(e.callId) ?? 0) > 1);
		const retried = sent.filter((e) => (e.result?.attempts.length ?? 0) > 1);
		const reached = (name: string, from: number, to: number) =>
			env.publicAddress.log.filter((r) => r.requestId?.startsWith('scenario-6-') && r.upstream === name && r.time >= from && r.time <= to);
		process.stderr.write(
			`scenario 6: ${sent.length} call events over ${Math.round((Date.now() - sigtermAt) / 1000)} s, ${retried.length} delivered again by Graph ` +
				`(${attempts} attempts), ` +
				`${reached('webhook-1', killedAt - KILL_WINDOW_MS, killedAt).length} request(s) reached webhook-1 in the ${KILL_WINDOW_MS} ms before SIGKILL; ` +
				`${executions.length} executions (${endedAtTrigger} ended at the trigger): ${lost.length} event(s) lost, ${twice.length} run twice` +
				[...lost.map((e) => ['lost', e] as const), ...twice.map((e) => ['twice', e] as const)]
					.map(([what, e]) => `\n  ${what}: ${routed(e).map((r) => `${r.upstream} ${r.status} after ${r.answeredAt - r.time} ms, ${r.answeredAt - killedAt} ms from SIGKILL`).join('; ')}`)
					.join('') +
				'\n',
		);
		// The restarts really happened, and Graph's retries were needed (502 from the stopped upstreams).
		expect(env.webhook(0).logs()).toContain('Received SIGTERM');
		expect(retried.length).toBeGreaterThan(0);
		// Every event ran. n8n answers a notification only once its job is in Redis, so a kill before that
		// leaves Graph without a 2xx and it delivers again; SIGTERM lets requests in flight finish.
		expect(lost.map((e) => e.requestId)).toEqual([]);
		// None ran twice: Graph delivers an event again after a late or lost answer, but what ran is kept in n8n's
		// database, which the (one) worker asks for every execution, whichever webhook process stored it.
		expect(twice.map((e) => e.requestId)).toEqual([]);
		// An execution that ended at the trigger is a delivery of an event that already ran: never more of them
		// than Graph's extra attempts.
		expect(endedAtTrigger).toBeLessThanOrEqual(attempts - sent.length);
		// Restarting webhook processes touches no subscription.
		expect(creates()).toBe(createsBefore);
	});

	it('4. a subscription recreated by the main after a 404 on renewal is accepted by the webhook process without a restart', async () => {
		const webhookPids = env.webhookProcesses().map((p) => p.pid);
		const sub = onlyLiveOf(bianca.id);
		// After scenario 2's restart n8n re-publishes the workflow (checkExists at init), which would also
		// restore a removed subscription: wait until the restarted main's timer has renewed this one.
		await waitFor('a renewal by the restarted main', () => patchesOf(sub.id, env.main.readyAt).find((p) => p.status === 200), 50_000, 200);
		const createsBefore = creates();
		const removedAt = Date.now();
		env.sim.removeSubscription(sub.id);
		const failed = await waitFor('a PATCH answered 404', () => patchesOf(sub.id, removedAt).find((p) => p.status === 404), 50_000, 200);
		const restored = await waitFor('a new subscription after the 404', () => env.live(workflow, bianca.id)[0], 15_000, 100);
		expect(restored.id).not.toBe(sub.id);
		await sleep(2_000);
		expect(env.live(workflow, bianca.id)).toHaveLength(1);
		expect(creates()).toBe(createsBefore + 1);
		process.stderr.write(`scenario 4: 404 after ${failed.time - removedAt} ms, recreated after ${restored.createdAt - removedAt} ms\n`);

		const before = (await env.runs(workflow)).length;
		const event = env.sim.buildCallEvent(restored, { kind: 'started' });
		const [result] = await env.sim.sendBatch([env.sim.notificationFor(restored, event)]);
		expect(result.status).toBe(202);
		await expectRunByWorker(before, [{ userId: bianca.id, callId: event.callId, subscriptionId: restored.id }]);
		expect(env.webhookProcesses().map((p) => p.pid)).toEqual(webhookPids);
	});

	it(`3. renewal over ${RENEWAL_LIFETIMES} one-minute lifetimes without traffic: no expiry, no duplicate, renewed by the main only`, async () => {
		const initial = WATCHED.map((u) => onlyLiveOf(u.id));
		const createsBefore = creates();
		const startedAt = Date.now();
		let samples = 0;
		const gaps: string[] = [];
		const duplicates: string[] = [];
		const sampler = setInterval(() => {
			samples++;
			for (const user of WATCHED) {
				const count = env.live(workflow, user.id).length;
				if (count === 0) gaps.push(`${new Date().toISOString()} ${user.id}`);
				if (count > 1) duplicates.push(`${new Date().toISOString()} ${user.id} x${count}`);
			}
		}, 250);
		try {
			await sleep(RENEWAL_LIFETIMES * LIFETIME_MS + 5_000);
		} finally {
			clearInterval(sampler);
		}
		expect(samples).toBeGreaterThan(RENEWAL_LIFETIMES * 200);
		expect(gaps).toEqual([]);
		expect(duplicates).toEqual([]);
		expect(creates()).toBe(createsBefore);
		for (const sub of initial) {
			expect(onlyLiveOf(sub.resource.split('/')[1]).id).toBe(sub.id);
			const patches = patchesOf(sub.id, startedAt);
			expect(patches.every((p) => p.status === 200)).toBe(true);
			expect(patches.length).toBeGreaterThanOrEqual(Math.floor((RENEWAL_LIFETIMES * LIFETIME_MS) / 45_000));
			// One renewer: renewals at half-life, never two within 20 s.
			const intervals = patches.slice(1).map((p, i) => p.time - patches[i].time);
			expect(Math.min(...intervals)).toBeGreaterThan(20_000);
			expect(Math.max(...intervals)).toBeLessThan(45_000);
		}
		// The timer is registered on the main only (n8n's debug log names each registered cron).
		expect(env.main.logs()).toContain('Registered cron');
		for (const webhook of env.webhookProcesses()) expect(webhook.logs()).not.toContain('Registered cron');
		expect(env.worker.logs()).not.toContain('Registered cron');
		process.stderr.write(
			`scenario 3: ${Math.round((Date.now() - startedAt) / 1000)} s, ${samples} samples, ` +
				`${initial.map((s) => `${patchesOf(s.id, startedAt).length} renewals`).join(', ')}\n`,
		);
		const before = (await env.runs(workflow)).length;
		await expectRunByWorker(before, await sendOneEventPerUser());
	});

	it(`5. main down longer than the lifetime: the webhook process keeps answering; subscriptions back within ${RECOVERY_BOUND_MS / 1000} s of the main's readiness`, async () => {
		const old = WATCHED.map((u) => onlyLiveOf(u.id));
		const createsBefore = creates();
		const answers: number[] = [];
		await env.restartMain(async () => {
			// Longer than a lifetime: Graph lets every subscription expire.
			await sleep(LIFETIME_MS + 15_000);
			expect(env.live(workflow)).toHaveLength(0);
			// A notification Graph had queued before the expiry, delivered late: the webhook process still
			// authenticates it by the clientState in the saved state, and answers.
			for (const sub of old) {
				const [result] = await env.sim.sendBatch([env.sim.notificationFor(sub, env.sim.buildCallEvent(sub, { kind: 'ended' }))]);
				answers.push(result.status ?? 0);
			}
		});
		const readyAt = env.main.readyAt;
		const recreated = await env.waitForSubscriptions(workflow, WATCHED.map((u) => u.id), RECOVERY_BOUND_MS);
		process.stderr.write(`scenario 5: webhook process answered ${answers.join(', ')} while the subscriptions were gone; back ${Date.now() - readyAt} ms after the main's readiness\n`);
		expect(answers).toEqual(old.map(() => 202));
		expect(recreated.some((s) => old.some((o) => o.id === s.id))).toBe(false);
		await sleep(5_000);
		expect(env.live(workflow)).toHaveLength(WATCHED.length);
		expect(creates()).toBe(createsBefore + WATCHED.length);
		const before = (await env.runs(workflow)).length;
		await expectRunByWorker(before, await sendOneEventPerUser());
	});

	it('9. deactivate: zero subscriptions left; the production URL is gone on the webhook process', async () => {
		const ids = env.live(workflow).map((s) => s.id);
		expect(ids).toHaveLength(WATCHED.length);
		await env.api.deactivate(workflow.id);
		await waitFor('all subscriptions deleted', () => env.sim.subscriptions().length === 0, 30_000);
		for (const id of ids) {
			expect(env.sim.getSubscription(id)?.state).toBe('deleted');
			expect(env.sim.countRequests({ method: 'DELETE', path: new RegExp(`/subscriptions/${id}$`) })).toBe(1);
		}
		const sub = env.sim.getSubscription(ids[0])!;
		const [late] = await waitFor(
			'the webhook process to drop the production webhook',
			async () => {
				const results = await env.sim.sendBatch([env.sim.notificationFor(sub, env.sim.buildCallEvent(sub, { kind: 'started' }))]);
				return results[0].status === 404 ? results : undefined;
			},
			15_000,
			1_000,
		);
		expect(late.status).toBe(404);
		// Nothing secret in any process's log.
		const logs = env.logs();
		expect(logs).not.toContain('PRIVATE KEY');
		expect(logs).not.toContain(env.clientSecret);
	});

	it('8. "listen for test event" with manual runs offloaded to the workers: the test event reaches the editor', async () => {
		const finishedBefore = env.executionIdsIn(env.worker, 'Worker finished execution');
		const testSubscriptions = await env.listenForTestEvent(workflow, WATCHED.length);
		const test = testSubscriptions.find((s) => s.resource.includes(bianca.id))!;
		const event = env.sim.buildCallEvent(test, { kind: 'started', direction: 'outgoing' });
		const [result] = await env.sim.sendBatch([env.sim.notificationFor(test, event)]);
		expect(result.status).toBe(202);
		const manual = [await manualExecutionFinishedByWorker(finishedBefore)];
		process.stderr.write(`scenario 8: manual execution ${manual[0].mode} ${manual[0].status}, ${env.itemsOf(manual[0]).length} item(s), run by the worker\n`);
		expect(manual[0]).toMatchObject({ mode: 'manual', status: 'success' });
		expect(env.itemsOf(manual[0])).toEqual([expect.objectContaining({ event: 'callStarted', userId: bianca.id, callId: event.callId })]);
	});
});

describe('real queue-mode n8n: call records and meeting call events, read and decrypted on the worker', () => {
	let records: TriggerWorkflow;
	let meeting: TriggerWorkflow;
	/** Scenario 11's record, which ran: the sweep (scenario 14) lists it and must not run it again. */
	let ranBefore: StoredCallRecord;
	const recordSubscription = () => {
		const live = env.live(records);
		if (live.length !== 1) throw new Error(`the call-records workflow has ${live.length} live subscriptions`);
		return live[0];
	};
	const meetingSubscription = () => {
		const live = env.live(meeting);
		if (live.length !== 1) throw new Error(`the meeting workflow has ${live.length} live subscriptions`);
		return live[0];
	};
	const readsOf = (recordId: string) => env.sim.findRequests({ method: 'GET', path: new RegExp(`/communications/callRecords/${recordId}$`) });
	const callIdsIn = (executions: N8nExecution[]) => executions.flatMap((e) => env.itemsOf(e).map((i) => String(i.callId)));
	const eventTimesIn = (executions: N8nExecution[]) => executions.flatMap((e) => env.itemsOf(e).map((i) => String(i.eventDateTime)));
	/** A call of the watched users that ended `minutesAgo` and that Graph last changed a minute later (or now). */
	const callEnded = (minutesAgo: number, extra: Parameters<typeof env.sim.addCallRecord>[0] = {}) =>
		env.sim.addCallRecord({
			type: 'groupCall',
			modalities: ['audio'],
			organizer: adele,
			participants: [adele, bianca],
			endDateTime: graphDateTime(Date.now() - minutesAgo * 60_000),
			lastModifiedDateTime: graphDateTime(Date.now() - Math.max(0, minutesAgo - 1) * 60_000),
			...extra,
		});

	/** The same notification to each webhook process in turn, each after the previous one's execution finished. */
	async function deliverToEachWebhookProcess(target: TriggerWorkflow, item: Parameters<typeof env.sim.sendBatch>[0][number]): Promise<N8nExecution[]> {
		const before = (await env.executions(target)).length;
		const routedBefore = env.publicAddress.log.length;
		for (let delivery = 0; delivery < 3; delivery++) {
			const [result] = await env.sim.sendBatch([item]);
			expect(result.status).toBe(202);
			await env.waitForExecutions(target, before + delivery + 1);
		}
		await sleep(3_000);
		const deliveries = env.publicAddress.log.slice(routedBefore).filter((r) => r.method === 'POST' && r.path.startsWith('/webhook/'));
		expect(deliveries.map((r) => r.status)).toEqual([202, 202, 202]);
		expect(deliveries[0].upstream).not.toBe(deliveries[1].upstream);
		const executions = (await env.waitForExecutions(target, before + 3)).slice(before);
		expect(executions).toHaveLength(3);
		await expectQueuedByWebhookRunByWorker(executions);
		return executions;
	}

	it('10. activate a call-records and a meeting workflow on the main: one subscription each', async () => {
		records = await env.createTriggerWorkflow('Call records (queue mode)', {
			source: 'callRecords',
			recordUsers: WATCHED.map((u) => u.id),
			recordEvents: ['callEnded'],
			recordOptions: { lifetimeMinutes: 1, waitForRecordSeconds: 90 },
		});
		// Meeting items have no call ID, so the Remove Duplicates branch (keyed by call ID) would hide them.
		meeting = await env.createTriggerWorkflow('Meeting call events (queue mode)', { source: 'meetingCallEvents', meetingJoinUrls: [STANDUP], meetingOptions: { lifetimeMinutes: 1 } }, { removeDuplicates: false });
		await env.api.activate(records.id);
		await env.api.activate(meeting.id);
		const [recordSub] = await env.waitForSubscriptions(records, ['communications/callRecords']);
		const [meetingSub] = await env.waitForSubscriptions(meeting, [STANDUP_RESOURCE]);
		expect(recordSub).toMatchObject({ changeType: 'created', includeResourceData: false });
		expect(meetingSub).toMatchObject({ changeType: 'updated', includeResourceData: true });
	});

	it('11. the same call-record notification, and the same meeting notification, delivered to each webhook process in turn: each runs once, on the worker', async () => {
		ranBefore = callEnded(12);
		const recordRuns = (await env.runs(records)).length;
		const recordExecutions = await deliverToEachWebhookProcess(records, env.sim.callRecordNotificationFor(recordSubscription(), ranBefore.id));
		expect(recordExecutions.map((e) => callIdsIn([e]))).toEqual([[ranBefore.id], [], []]);
		env.expectEndedAtTrigger(recordExecutions.slice(1));
		expect(await env.runs(records)).toHaveLength(recordRuns + 1);
		// The worker read it once; the later executions found it in n8n's database after reading (another process's
		// memory cannot say it ran).
		expect(readsOf(ranBefore.id).filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);

		const event = env.sim.buildMeetingCallEvent({ kind: 'callStarted', eventDateTime: '2026-12-07T09:00:00.000Z' });
		const meetingRuns = (await env.runs(meeting)).length;
		const meetingExecutions = await deliverToEachWebhookProcess(meeting, env.sim.meetingNotificationFor(meetingSubscription(), event));
		expect(meetingExecutions.map((e) => env.itemsOf(e).map((i) => [i.event, i.eventDateTime]))).toEqual([[['callStarted', '2026-12-07T09:00:00.000Z']], [], []]);
		env.expectEndedAtTrigger(meetingExecutions.slice(1));
		expect(await env.runs(meeting)).toHaveLength(meetingRuns + 1);
		process.stderr.write(`scenario 11: 3 deliveries each -> call records ${runsOf(recordExecutions).length} run, meeting ${runsOf(meetingExecutions).length} run\n`);
	});

	it(`12. records Graph cannot return for ${RECORDS_PENDING_MS / 1000} s, then one webhook process stopped (SIGTERM) and the other killed (SIGKILL): every record reaches the workflow once`, async () => {
		const sub = recordSubscription();
		const runsBefore = (await env.runs(records)).length;
		const pending = [callEnded(0, { notReadableForMs: RECORDS_PENDING_MS }), callEnded(0, { notReadableForMs: RECORDS_PENDING_MS })];
		const routedBefore = env.publicAddress.log.length;
		for (const record of pending) {
			const [result] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, record.id)]);
			expect(result.status).toBe(202);
			expect(result.attempts[0].withinAckWindow).toBe(true);
		}
		const took = env.publicAddress.log.slice(routedBefore).filter((r) => r.method === 'POST').map((r) => r.upstream);
		expect(new Set(took)).toEqual(new Set(['webhook-0', 'webhook-1']));
		const stoppedAt = Date.now();
		await env.webhook(0).stop();
		const killedAt = await env.kill(env.webhook(1));
		await Promise.all([env.webhook(0).start(), env.webhook(1).start()]);
		expect(env.webhook(0).logs()).toContain('Received SIGTERM');

		const runs = (await env.waitForRuns(records, runsBefore + pending.length, RECORDS_PENDING_MS + 90_000)).slice(runsBefore);
		await sleep(3_000);
		expect(await env.runs(records)).toHaveLength(runsBefore + pending.length);
		expect(callIdsIn(runs).sort()).toEqual(pending.map((r) => r.id).sort());
		await expectQueuedByWebhookRunByWorker(runs);
		for (const record of pending) {
			const reads = readsOf(record.id);
			// Asked while Graph had it not, by the worker, before and after both webhook processes went away.
			expect(reads[0].status).toBe(404);
			expect(reads.filter((r) => r.status === 200)).toHaveLength(1);
			expect(reads.find((r) => r.status === 200)!.time).toBeGreaterThan(killedAt);
		}
		process.stderr.write(`scenario 12: ${pending.length} records pending ${RECORDS_PENDING_MS / 1000} s, webhook processes stopped ${Date.now() - stoppedAt} ms ago: ${runs.length} run(s)\n`);
	});

	it(`13. Redis down for ${REDIS_DOWN_MS / 1000} s while Graph delivers, retrying: every call record and meeting event runs once afterwards`, async () => {
		const recordSub = await waitFor('the call-records subscription', () => env.live(records)[0], 60_000);
		const meetingSub = await waitFor('the meeting subscription', () => env.live(meeting)[0], 60_000);
		const recordRunsBefore = (await env.runs(records)).length;
		const meetingRunsBefore = (await env.runs(meeting)).length;
		const sentRecords = [callEnded(0), callEnded(0)];
		const sentEvents = ['2026-12-07T10:00:00.000Z', '2026-12-07T10:30:00.000Z'].map((at) => env.sim.buildMeetingCallEvent({ kind: 'callStarted', eventDateTime: at }));
		await env.redis!.stop();
		const downAt = Date.now();
		const graph = { retries: 8, retryDelayMs: 1_000 };
		const deliveries = [
			...sentRecords.map((r) => env.sim.sendBatch([env.sim.callRecordNotificationFor(recordSub, r.id)], graph)),
			...sentEvents.map((e) => env.sim.sendBatch([env.sim.meetingNotificationFor(meetingSub, e)], graph)),
		];
		await sleep(REDIS_DOWN_MS);
		await env.redis!.resume();
		const upAt = Date.now();
		const results = (await Promise.all(deliveries)).map(([r]) => r);
		expect(results.filter((r) => !r.delivered)).toEqual([]);
		const attempts = results.reduce((sum, r) => sum + r.attempts.length, 0);

		const recordRuns = (await env.waitForRuns(records, recordRunsBefore + sentRecords.length, 90_000)).slice(recordRunsBefore);
		const meetingRuns = (await env.waitForRuns(meeting, meetingRunsBefore + sentEvents.length, 90_000)).slice(meetingRunsBefore);
		await sleep(5_000);
		expect(await env.runs(records)).toHaveLength(recordRunsBefore + sentRecords.length);
		expect(await env.runs(meeting)).toHaveLength(meetingRunsBefore + sentEvents.length);
		expect(callIdsIn(recordRuns).sort()).toEqual(sentRecords.map((r) => r.id).sort());
		expect(eventTimesIn(meetingRuns).sort()).toEqual(sentEvents.map((e) => String(e.eventDateTime)).sort());
		process.stderr.write(
			`scenario 13: Redis down ${upAt - downAt} ms; ${results.length} notifications in ${attempts} attempts ` +
				`(statuses ${results.map((r) => r.attempts.map((a) => a.status ?? a.error).join('/')).join(', ')}); each ran once\n`,
		);
	});

	it('14. every n8n process down while calls end (Graph\'s records of the last 30 minutes, no notification): the main\'s first sweep runs each once on the worker; the record that ran before does not run again', async () => {
		const runsBefore = await env.runs(records);
		let missed: StoredCallRecord[] = [];
		await env.restartAll(() => {
			// Down for what Graph sees as 30 minutes: records of calls that ended meanwhile, whose notification never came.
			missed = [28, 20, 13].map((minutesAgo) => callEnded(minutesAgo));
		});
		const readyAt = env.main.readyAt;
		await env.waitForSubscriptions(records, ['communications/callRecords'], 60_000);
		const swept = await waitFor(
			'the sweep to run the missed records',
			async () => {
				const found = (await env.runs(records)).filter((e) => e.mode === 'trigger');
				return missed.every((r) => callIdsIn(found).includes(r.id)) ? found : undefined;
			},
			Math.max(5_000, readyAt + FIRST_SWEEP_DELAY_MS + 90_000 - Date.now()),
			1_000,
		);
		await sleep(5_000);
		const runs = (await env.runs(records)).slice(runsBefore.length);
		const ids = callIdsIn(runs);
		for (const record of missed) expect(ids.filter((id) => id === record.id)).toHaveLength(1);
		expect(ids.filter((id) => id === ranBefore.id)).toEqual([]);
		expect(env.itemsOf(swept[0])[0]).toMatchObject({ event: 'callEnded', detectedBy: 'sweep', subscriptionId: null });
		// Started by the main's timer, queued by the main, run by the worker.
		const enqueuedByMain = env.executionIdsIn(env.main, 'Enqueued execution');
		const finishedByWorker = env.executionIdsIn(env.worker, 'Worker finished execution');
		for (const execution of swept) {
			expect(enqueuedByMain).toContain(execution.id);
			expect(finishedByWorker).toContain(execution.id);
		}
		const lists = env.sim.findRequests({ method: 'GET', path: /\/communications\/callRecords$/ }).filter((r) => r.time >= readyAt);
		process.stderr.write(`scenario 14: first sweep listed ${lists[0].time - readyAt} ms after the main's readiness; ${missed.length} missed records ran once, in ${swept.length} execution(s)\n`);
	});

	it('15. deactivate both, then "listen for test event" for each source with manual runs on the worker: the decrypted or read item reaches the editor', async () => {
		await env.api.deactivate(records.id);
		await env.api.deactivate(meeting.id);
		await waitFor('no subscription left', () => env.sim.subscriptions().length === 0, 30_000);

		const manualRunOnWorker = async (send: () => Promise<void>) => {
			const finishedBefore = env.executionIdsIn(env.worker, 'Worker finished execution');
			await send();
			const manual = await manualExecutionFinishedByWorker(finishedBefore, 90_000);
			expect(manual).toMatchObject({ mode: 'manual', status: 'success' });
			return env.itemsOf(manual);
		};

		const [recordTest] = await env.listenForTestEvent(records, 1);
		const record = callEnded(0);
		const recordItems = await manualRunOnWorker(async () => {
			const [result] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(recordTest, record.id)]);
			expect(result.status).toBe(202);
		});
		expect(recordItems).toEqual([expect.objectContaining({ event: 'callEnded', callId: record.id, detectedBy: 'notification' })]);
		await waitFor('the test subscription deleted', () => env.sim.subscriptions().length === 0, 30_000);

		const [meetingTest] = await env.listenForTestEvent(meeting, 1);
		const event = env.sim.buildMeetingCallEvent({ kind: 'callEnded', eventDateTime: '2026-12-07T11:00:00.000Z' });
		const meetingItems = await manualRunOnWorker(async () => {
			const [result] = await env.sim.sendBatch([env.sim.meetingNotificationFor(meetingTest, event)]);
			expect(result.status).toBe(202);
		});
		expect(meetingItems).toEqual([expect.objectContaining({ event: 'callEnded', joinWebUrl: STANDUP, eventDateTime: '2026-12-07T11:00:00.000Z', data: event })]);
		process.stderr.write(`scenario 15: manual runs on the worker: ${recordItems.length} call record, ${meetingItems.length} meeting event\n`);
	});
});
