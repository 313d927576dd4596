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
	replyMedianMs: number;
	replyP99Ms: number;
	recordedMedianMs: number;
	recordedP99Ms: number;
}

export interface E2eResult {
	batch: number;
	rows: E2eRow[];
	ratioReplyMedian: number;
	ratioRecordedMedian: number;
}

/**
 * Part 5: a real n8n (test/e2e harness: HTTPS, SQLite, the built package in dist/) with two active
 * workflows, the Teams call trigger and n8n's built-in Webhook node, each followed by NoOp. The same
 * kind of body (100 encrypted call events + a validation token) goes to both, interleaved, from the
 * client process; reply latency and time until the execution is recorded (public API, polled every 20 ms).
 */
export async function benchE2e(reps: number, batch = 100): Promise<E2eResult> {
	log('part 5: starting a real n8n (test/e2e harness)');
	const env = await E2eEnvironment.start();
	const client = await AckClient.start();
	const bodyFile = join(tmpdir(), `teams-calls-bench-e2e-${process.pid}.json`);
	try {
		const trigger = await env.createTriggerWorkflow('bench trigger', { users: [USERS[0].id] });
		await env.api.activate(trigger.id);
		const [subscription] = await env.waitForSubscriptions(trigger, [USERS[0].id]);
		const path = randomUUID();
		const webhookNode = {
			name: 'bench webhook',
			nodes: [
				{ id: randomUUID(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: path, parameters: { httpMethod: 'POST', path, options: {} } },
				{ id: randomUUID(), name: 'NoOp', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, 0], parameters: {} },
			],
			connections: { Webhook: { main: [[{ node: 'NoOp', type: 'main', index: 0 }]] } },
			settings: { executionOrder: 'v1' },
		};
		const { id: webhookWorkflowId } = await env.api.createWorkflow(webhookNode);
		await env.api.activate(webhookWorkflowId);
		const base = env.n8n.baseUrl.replace('//localhost:', '//127.0.0.1:');
		const endpoints = [
			{ name: 'Teams call trigger (this package)', url: trigger.notifyUrl.replace('//localhost:', '//127.0.0.1:'), workflowId: trigger.id },
			{ name: "n8n's built-in Webhook node", url: `${base}/webhook/${path}`, workflowId: webhookWorkflowId },
		];
		const publicCall = (env.api as unknown as { public: PublicCall }).public.bind(env.api);
		const finishedCount = async (workflowId: string) => {
			const page = await publicCall('GET', `/executions?workflowId=${workflowId}&limit=250`);
			return page.body.data.filter((e) => e.finished || e.status === 'success').length;
		};
		const prepare = () =>
			writeFileSync(
				bodyFile,
				JSON.stringify({
					value: Array.from({ length: batch }, (_, i) =>
						env.sim.notificationFor(subscription, callEventOfAbout1Kb(subscription.resource, i % 2 ? 'ended' : 'started')),
					),
					validationTokens: [env.sim.validationTokenFor(subscription.applicationId, subscription.tenantId)],
				}),
			);
		const samples = endpoints.map(() => ({ reply: [] as number[], recorded: [] as number[] }));
		for (let rep = -2; rep < reps; rep++) {
			for (const [index, endpoint] of endpoints.entries()) {
				prepare();
				const before = await finishedCount(endpoint.workflowId);
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
				if (rep >= 0) {
					samples[index].reply.push(answer.headersAt - answer.started);
					samples[index].recorded.push(recordedAt - answer.started);
				}
			}
			if (rep >= 0) log(`part 5: ${rep + 1}/${reps}`);
		}
		const rows = endpoints.map((endpoint, i): E2eRow => ({
			endpoint: endpoint.name,
			reps,
			replyMedianMs: median(samples[i].reply),
			replyP99Ms: percentile(samples[i].reply, 99),
			recordedMedianMs: median(samples[i].recorded),
			recordedP99Ms: percentile(samples[i].recorded, 99),
		}));
		return {
			batch,
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
