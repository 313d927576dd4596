import { randomUUID } from 'node:crypto';

import { USERS, waitFor } from '../test/e2e/e2eEnvironment';
import { QueueModeEnvironment } from '../test/e2e/queueMode';
import type { NotificationItem, StoredSubscription } from '../test/simulator';
import { sleep } from '../test/e2e/n8nProcess';
import { log, median, percentile } from './stats';

export interface QueueRow {
	/** The trigger, or n8n's built-in Webhook node receiving the same bodies (the floor). */
	endpoint: string;
	/** Call events per POST (Graph batches notifications). */
	batch: number;
	events: number;
	posts: number;
	/** POSTs in flight at once, as Graph delivers in parallel. */
	concurrency: number;
	/** POSTs whose first answer was not a 2xx within Graph's 3 s, so Graph delivered them again. */
	notAcknowledged: number;
	/** Extra attempts in all, and POSTs still not delivered after 6 retries. */
	redeliveries: number;
	undelivered: number;
	replyMedianMs: number;
	replyP99Ms: number;
	/** The latest first answer (Graph counts one after about 2.9 s as slow). */
	replyMaxMs: number;
	/** First POST sent → last POST answered. */
	allAnsweredMs: number;
	/** First POST sent → the worker's log says it finished the last execution. */
	allFinishedMs: number;
	eventsPerSecond: number;
	/** Counted afterwards in n8n's database (public API): executions with status success (one expected per delivered POST), and (trigger) their items. */
	executionsSucceeded: number;
	executionsExpected: number;
	itemsCounted?: number;
	distinctCallIds?: number;
}

export interface QueueResult {
	processes: string;
	workerConcurrency: string;
	logLevel: string;
	rows: QueueRow[];
}

/**
 * Part 7: queue mode (test/e2e/queueMode.ts: Postgres, Redis, a main, one `n8n webhook` process, one
 * `n8n worker` at n8n's default concurrency). One active trigger workflow (trigger → NoOp) watching two
 * users; 1,000 encrypted call events POSTed by the simulator to the webhook process, then counted as
 * executions finished on the worker. Each row: the events as 1,000 single-event POSTs, or in batches; and
 * the same bodies to n8n's built-in Webhook node (→ NoOp) on the same webhook process, as the floor.
 */
export async function benchQueue(events = 1_000, batches = [1, 100], concurrency = 16, lazyIsolates = false): Promise<QueueResult> {
	// n8n's info log still names every enqueued and finished execution, at a fraction of debug's cost.
	process.env.N8N_E2E_LOG_LEVEL ??= 'info';
	log('part 7: starting queue mode (Postgres, Redis, main, webhook process, worker)');
	// n8n's setting for busy instances (README): an expression isolate only when an expression needs one.
	const env = await QueueModeEnvironment.start({ webhookProcesses: 1, n8nEnv: lazyIsolates ? { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } : {} });
	try {
		const watched = [USERS[0], USERS[1]];
		const workflow = await env.createTriggerWorkflow('bench queue mode', { users: watched.map((u) => u.id) }, { removeDuplicates: false });
		await env.api.activate(workflow.id);
		const subscriptions = await env.waitForSubscriptions(workflow, watched.map((u) => u.id));
		const finished = () => env.executionIdsIn(env.worker, 'Worker finished execution').length;

		const callEvents = (count: number, offset: number): NotificationItem[] =>
			Array.from({ length: count }, (_, i) => {
				const sub: StoredSubscription = subscriptions[(offset + i) % subscriptions.length];
				return env.sim.notificationFor(sub, env.sim.buildCallEvent(sub, { kind: 'started' }));
			});

		// The floor: n8n's built-in Webhook node (→ NoOp) on the same webhook process.
		const path = randomUUID();
		const floor = await env.api.createWorkflow({
			name: 'bench queue mode, built-in Webhook node',
			nodes: [
				{ id: randomUUID(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: path, parameters: { httpMethod: 'POST', path, options: {} } },
				{ id: randomUUID(), name: 'NoOp', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, 0], parameters: {} },
			],
			connections: { Webhook: { main: [[{ node: 'NoOp', type: 'main', index: 0 }]] } },
			settings: { executionOrder: 'v1' },
		});
		await env.api.activate(floor.id);
		const endpoints = [
			{ name: 'Teams call trigger', workflowId: workflow.id, url: undefined },
			{ name: "n8n's built-in Webhook node (floor)", workflowId: floor.id, url: `${workflow.notifyUrl.split('/webhook/')[0]}/webhook/${path}` },
		];

		// Graph's delivery: any answer but a 2xx within 3 s is delivered again, with back-off (here from 1 s).
		const send = async (items: NotificationItem[], url?: string) => {
			const [result] = await env.sim.sendBatch(items, { url, retries: 6, retryDelayMs: 1_000 });
			const first = result.attempts[0];
			return { ms: first.responseTimeMs, acknowledged: result.attempts.length === 1 && result.delivered, delivered: result.delivered, redeliveries: result.attempts.length - 1 };
		};

		// Warm-up: the webhook process and the worker load the workflows, the trigger its keys.
		const warmBefore = finished();
		for (const endpoint of endpoints) for (let i = 0; i < 5; i++) await send(callEvents(2, i), endpoint.url);
		await waitFor('the warm-up executions', () => finished() >= warmBefore + 10, 120_000, 200);

		const rows: QueueRow[] = [];
		for (const batch of batches) for (const endpoint of endpoints) {
			const posts = Math.ceil(events / batch);
			const bodies = Array.from({ length: posts }, (_, p) => callEvents(Math.min(batch, events - p * batch), p));
			const finishedBefore = finished();
			const executionsBefore = await env.api.executions(endpoint.workflowId).then((all) => new Set(all.map((e) => e.id)));
			log(`part 7: ${endpoint.name}: ${events} call events in ${posts} POST(s) of ${batch}, ${concurrency} in flight`);
			const replies: number[] = [];
			let notAcknowledged = 0;
			let undelivered = 0;
			let redeliveries = 0;
			let next = 0;
			const started = performance.now();
			await Promise.all(
				Array.from({ length: Math.min(concurrency, posts) }, async () => {
					while (next < posts) {
						const answer = await send(bodies[next++], endpoint.url);
						replies.push(answer.ms);
						if (!answer.acknowledged) notAcknowledged++;
						if (!answer.delivered) undelivered++;
						redeliveries += answer.redeliveries;
					}
				}),
			);
			const allAnsweredMs = performance.now() - started;
			// Until one execution per delivered POST has finished, or nothing more finishes for 30 s (then
			// the count below says what is missing).
			let lastCount = finished();
			let lastChange = performance.now();
			while (lastCount < finishedBefore + posts - undelivered && performance.now() - lastChange < 30_000) {
				await sleep(100);
				const count = finished();
				if (count !== lastCount) [lastCount, lastChange] = [count, performance.now()];
			}
			const allFinishedMs = lastChange - started;

			const executions = (await env.api.executions(endpoint.workflowId)).filter((e) => !executionsBefore.has(e.id));
			const items = endpoint.url ? undefined : executions.flatMap((e) => env.itemsOf(e));
			rows.push({
				endpoint: endpoint.name,
				batch,
				events,
				posts,
				concurrency,
				notAcknowledged,
				redeliveries,
				undelivered,
				replyMedianMs: median(replies),
				replyP99Ms: percentile(replies, 99),
				replyMaxMs: Math.max(...replies),
				allAnsweredMs,
				allFinishedMs,
				eventsPerSecond: events / (allFinishedMs / 1000),
				executionsSucceeded: executions.filter((e) => e.status === 'success').length,
				executionsExpected: posts - undelivered,
				itemsCounted: items?.length,
				distinctCallIds: items && new Set(items.map((i) => String(i.callId))).size,
			});
		}
		return {
			processes: `Postgres, Redis, main, 1 webhook process, 1 worker${lazyIsolates ? ', N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true' : ''}`,
			workerConcurrency: "n8n's default (10)",
			logLevel: process.env.N8N_E2E_LOG_LEVEL ?? 'info',
			rows,
		};
	} finally {
		await env.close();
	}
}
