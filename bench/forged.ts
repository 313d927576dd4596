import { rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { cachedServerCertificate } from '../test/simulator/testCa';

import { capturedLogs } from '../test/support/n8nTriggerHarness';
import { startTriggerFixture, USERS } from '../test/support/triggerFixture';
import { collectGarbage, log, median, wallClock } from './stats';
import { AckClient } from './webhook';

export interface ForgedRow {
	users: number;
	bodyBytes: number;
	items: number;
	reps: number;
	statuses: number[];
	answerMedianMs: number;
	answerMaxMs: number;
	/** Server: the node's webhook() entered → its answer handed to the socket. */
	nodeMedianMs: number;
	nodeMaxMs: number;
	/** The same body to a bare express.json() endpoint that answers 401 at once: upload and JSON parsing. */
	floorMedianMs: number;
	floorMaxMs: number;
	samples: number[];
	nodeSamples: number[];
}

/** A bare HTTPS express.json() endpoint with n8n's body limit, answering 401 at once: the host's floor. */
async function startFloor(): Promise<{ url: string; server: Server }> {
	const app = express();
	app.use(express.json({ limit: '16mb' }));
	app.post('/floor', (_request, response) => {
		response.status(401).end();
	});
	const certificate = cachedServerCertificate(['localhost', '127.0.0.1']);
	const server = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, app);
	await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
	return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/floor`, server };
}

/** Just under the 16 MiB that n8n's body parser accepts (N8N_PAYLOAD_SIZE_MAX's default). */
const BODY_BYTES = 16 * 2 ** 20 - 4096;

function watchedUsers(count: number) {
	return Array.from({ length: count }, (_, index) =>
		index < USERS.length
			? USERS[index]
			: {
					id: `dddddddd-0000-4000-8000-${String(index).padStart(12, '0')}`,
					userPrincipalName: `user${index}@contoso.test`,
					displayName: `User ${index}`,
				},
	);
}

/**
 * The worst request an attacker who knows the notification URL can send: a full-size body of tiny items, each
 * with a subscription ID the trigger has never seen (so the clientState has to be matched another way) and a
 * resource that names a watched user. Time from sending to the answer, at the client in another process.
 */
export function forgedBody(resourceOf: (index: number) => string): { body: string; items: number } {
	const parts: string[] = [];
	let bytes = '{"value":[]}'.length;
	for (let index = 0; ; index++) {
		const item = JSON.stringify({ subscriptionId: `f${index}`, clientState: `g${index}`, resource: resourceOf(index) });
		if (bytes + item.length + 1 > BODY_BYTES) break;
		parts.push(item);
		bytes += item.length + 1;
	}
	return { body: `{"value":[${parts.join(',')}]}`, items: parts.length };
}

export async function benchForgedRequest(userCount: number, reps: number): Promise<ForgedRow> {
	const users = watchedUsers(userCount);
	log(`part 6: activating a trigger for ${userCount} users`);
	const fixture = await startTriggerFixture({ users: users.map((user) => user.id).join(',') });
	const client = await AckClient.start();
	const floor = await startFloor();
	const nodeTimes: number[] = [];
	const nodeType = fixture.harness.nodeType;
	const original = nodeType.webhook!;
	nodeType.webhook = async function timedWebhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const enteredAt = wallClock();
		const response = this.getResponseObject();
		const end = response.end;
		response.end = function timedEnd(this: typeof response, ...args: unknown[]) {
			nodeTimes.push(wallClock() - enteredAt);
			return (end as (...a: unknown[]) => typeof response).apply(this, args);
		} as typeof response.end;
		return original.call(this);
	};
	const bodyFile = join(tmpdir(), `teams-calls-bench-forged-${process.pid}.json`);
	try {
		for (const user of users.slice(USERS.length)) fixture.sim.addUser(user);
		await fixture.harness.activate();
		const subscriptions = fixture.sim.subscriptions();
		if (subscriptions.length !== userCount) throw new Error(`expected ${userCount} subscriptions, got ${subscriptions.length}`);
		// Only the forged requests: not the validation handshakes of activation.
		nodeTimes.length = 0;
		const { body, items } = forgedBody((index) => subscriptions[index % subscriptions.length].resource);
		writeFileSync(bodyFile, body);
		const url = fixture.harness.url('notify').replace('//localhost:', '//127.0.0.1:');
		const samples: number[] = [];
		const floorSamples: number[] = [];
		const statuses = new Set<number>();
		for (let rep = 0; rep < reps; rep++) {
			collectGarbage();
			const result = await client.post(url, bodyFile);
			await fixture.harness.settled();
			if (result.error) throw new Error(`forged request failed: ${result.error}`);
			statuses.add(result.status ?? 0);
			samples.push(result.headersAt - result.started);
			collectGarbage();
			const bare = await client.post(floor.url, bodyFile);
			if (bare.status === 401) floorSamples.push(bare.headersAt - bare.started);
			log(`part 6: ${items} forged items, answered ${String(result.status)} in ${Math.round(result.headersAt - result.started)} ms (bare express: ${Math.round(bare.headersAt - bare.started)} ms)`);
		}
		if (fixture.harness.executions.length > 0) throw new Error('a forged request ran the workflow');
		capturedLogs.length = 0;
		return {
			users: userCount,
			bodyBytes: Buffer.byteLength(body),
			items,
			reps,
			statuses: [...statuses],
			answerMedianMs: median(samples),
			answerMaxMs: Math.max(...samples),
			nodeMedianMs: median(nodeTimes),
			nodeMaxMs: Math.max(...nodeTimes),
			floorMedianMs: median(floorSamples),
			floorMaxMs: Math.max(...floorSamples),
			samples,
			nodeSamples: nodeTimes,
		};
	} finally {
		rmSync(bodyFile, { force: true });
		nodeType.webhook = original;
		await new Promise<void>((done) => floor.server.close(() => done()));
		await client.close();
		await fixture.close();
	}
}
