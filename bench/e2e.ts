import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { E2eEnvironment, USERS } from '../test/e2e/e2eEnvironment';
import { sleep } from '../test/e2e/n8nProcess';
import { callEventOfAbout1Kb } from './payloads';
import { log, median, percentile } from './stats';
import { AckClient } from './webhook';

interface ExecutionSummary {
	id: string;
	status?: string;
	finished?: boolean;
}

type PublicCall = (method: string, path: string) => Promise<{ status: number; body: { data: ExecutionSummary[] } }>;

export interface E2eRow {
	endpoint: string;
	reps: number;
	/** Expression isolates n8n created per measured request ("Runtime bundle loaded" in its debug log, counted up to the next request). */
	isolatesPerRequest: number;
	replyMedianMs: number;
	replyP99Ms: number;
	recordedMedianMs: number;
	recordedP99Ms: number;
}

/** One n8n configuration part 5 runs under; both sides of each comparison share it. */
export interface E2eSettings {
	name: string;
	/** For file names. */
	slug: string;
	n8nEnv: Record<string, string>;
}

export const E2E_SETTINGS: E2eSettings[] = [
	{ name: 'n8n defaults', slug: 'defaults', n8nEnv: {} },
	// n8n's own switch (2.41): an expression isolate is taken when an expression first needs one, not for
	// every webhook request and execution up front.
	{ name: 'N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true', slug: 'lazy-acquire', n8nEnv: { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } },
];

export interface E2eResult {
	/** n8n's settings for this instance, as told to the reader ("n8n defaults", …). */
	settings: string;
	n8nEnv: Record<string, string>;
	batch: number;
	/** Requests the simulator (Graph + login) received while the measured deliveries ran. */
	simulatorRequestsDuringDeliveries: number;
	rows: E2eRow[];
	ratioReplyMedian: number;
	ratioRecordedMedian: number;
}

/**
 * Part 5: a real n8n (test/e2e harness: HTTPS, SQLite, the built package in dist/) with active workflows
 * for the Teams call trigger and n8n's built-in Webhook node, each followed by NoOp. The same kind of body
 * (100 encrypted call events + a validation token) goes to each, interleaved, from the client process;
 * reply latency and time until the execution is recorded (public API, polled every 20 ms).
 */
export async function benchE2e(reps: number, settings: E2eSettings, batch = 100): Promise<E2eResult> {
	log(`part 5: starting a real n8n (test/e2e harness), ${settings.name}`);
	const env = await E2eEnvironment.start({ n8nEnv: settings.n8nEnv });
	const client = await AckClient.start();
	const bodyFile = join(tmpdir(), `teams-calls-bench-e2e-${process.pid}.json`);
	try {
		const trigger = await env.createTriggerWorkflow('bench trigger', { users: [USERS[0].id] });
		await env.api.activate(trigger.id);
		const [subscription] = await env.waitForSubscriptions(trigger, [USERS[0].id]);
		// n8n's built-in Webhook node at its current version (2) and, as a diagnostic, at version 1: n8n
		// evaluates an expression for every request to any webhook node saved at typeVersion 1 (webhook-helpers
		// parseRequestBody), which workflows that saved this trigger at version 1 pay too.
		const webhookWorkflow = async (typeVersion: number) => {
			const path = randomUUID();
			const { id } = await env.api.createWorkflow({
				name: `bench webhook v${typeVersion}`,
				nodes: [
					{ id: randomUUID(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion, position: [0, 0], webhookId: path, parameters: { httpMethod: 'POST', path, options: {} } },
					{ id: randomUUID(), name: 'NoOp', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, 0], parameters: {} },
				],
				connections: { Webhook: { main: [[{ node: 'NoOp', type: 'main', index: 0 }]] } },
				settings: { executionOrder: 'v1' },
			});
			await env.api.activate(id);
			return { id, url: `${env.n8n.baseUrl.replace('//localhost:', '//127.0.0.1:')}/webhook/${path}` };
		};
		// Diagnostic: the same trigger saved at typeVersion 1, as workflows saved before version 2 are.
		const triggerV1 = await env.createTriggerWorkflow('bench trigger v1', { users: [USERS[1].id] }, 1);
		await env.api.activate(triggerV1.id);
		const [subscriptionV1] = await env.waitForSubscriptions(triggerV1, [USERS[1].id]);
		const v2 = await webhookWorkflow(2);
		const v1 = await webhookWorkflow(1);
		const endpoints = [
			{ name: 'Teams call trigger (this package, node v2)', url: trigger.notifyUrl.replace('//localhost:', '//127.0.0.1:'), workflowId: trigger.id, subscription },
			{ name: "n8n's built-in Webhook node (v2, the floor)", url: v2.url, workflowId: v2.id, subscription },
			{ name: 'built-in Webhook node v1 (diagnostic)', url: v1.url, workflowId: v1.id, subscription },
			{ name: 'Teams call trigger saved as typeVersion 1 (diagnostic)', url: triggerV1.notifyUrl.replace('//localhost:', '//127.0.0.1:'), workflowId: triggerV1.id, subscription: subscriptionV1 },
		];
		const publicCall = (env.api as unknown as { public: PublicCall }).public.bind(env.api);
		const finishedCount = async (workflowId: string) => {
			const page = await publicCall('GET', `/executions?workflowId=${workflowId}&limit=250`);
			return page.body.data.filter((e) => e.finished || e.status === 'success').length;
		};
		const prepare = (subscription: typeof subscriptionV1) =>
			writeFileSync(
				bodyFile,
				JSON.stringify({
					value: Array.from({ length: batch }, (_, i) =>
						env.sim.notificationFor(subscription, callEventOfAbout1Kb(subscription.resource, i % 2 ? 'ended' : 'started')),
					),
					validationTokens: [env.sim.validationTokenFor(subscription.applicationId, subscription.tenantId)],
				}),
			);
		const samples = endpoints.map(() => ({ reply: [] as number[], recorded: [] as number[], isolates: 0 }));
		// Replacement isolates are built after a request ends, so those built up to the next request are
		// counted for this one.
		let isolatesBefore = env.isolatesBuilt();
		let counting: (typeof samples)[number] | undefined;
		let simulatorRequestsDuringDeliveries = 0;
		for (let rep = -2; rep < reps; rep++) {
			for (const [index, endpoint] of endpoints.entries()) {
				prepare(endpoint.subscription);
				const isolatesNow = env.isolatesBuilt();
				if (counting) counting.isolates += isolatesNow - isolatesBefore;
				isolatesBefore = isolatesNow;
				counting = rep >= 0 ? samples[index] : undefined;
				const before = await finishedCount(endpoint.workflowId);
				env.sim.clearRequests();
				const answer = await client.post(endpoint.url, bodyFile);
				if (answer.error || !answer.status || answer.status >= 300) throw new Error(`${endpoint.name}: ${answer.error ?? `status ${answer.status}`}`);
				let recordedAt = NaN;
				for (let poll = 0; poll < 1500; poll++) {
					if ((await finishedCount(endpoint.workflowId)) > before) {
						recordedAt = performance.timeOrigin + performance.now();
						break;
					}
					await sleep(20);
				}
				if (Number.isNaN(recordedAt)) throw new Error(`${endpoint.name}: no execution recorded within 30 s`);
				// Graph or login calls on the notification path (the first delivery fetches the JWKS once).
				if (rep >= 0) simulatorRequestsDuringDeliveries += env.sim.requests.length;
				if (rep >= 0) {
					samples[index].reply.push(answer.headersAt - answer.started);
					samples[index].recorded.push(recordedAt - answer.started);
				}
			}
			if (rep >= 0) log(`part 5: ${rep + 1}/${reps}`);
		}
		await sleep(1000);
		if (counting) counting.isolates += env.isolatesBuilt() - isolatesBefore;
		const rows = endpoints.map((endpoint, i): E2eRow => ({
			endpoint: endpoint.name,
			reps,
			isolatesPerRequest: samples[i].isolates / reps,
			replyMedianMs: median(samples[i].reply),
			replyP99Ms: percentile(samples[i].reply, 99),
			recordedMedianMs: median(samples[i].recorded),
			recordedP99Ms: percentile(samples[i].recorded, 99),
		}));
		// For profiling: n8n's own (debug) log of this run, with per-node timings.
		writeFileSync(join('.cache', `bench-e2e-n8n-${settings.slug}.log`), env.n8n.logs());
		return {
			settings: settings.name,
			n8nEnv: settings.n8nEnv,
			batch,
			simulatorRequestsDuringDeliveries,
			rows,
			ratioReplyMedian: rows[0].replyMedianMs / rows[1].replyMedianMs,
			ratioRecordedMedian: rows[0].recordedMedianMs / rows[1].recordedMedianMs,
		};
	} finally {
		rmSync(bodyFile, { force: true });
		await client.close();
		await env.close();
	}
}
