/* eslint-disable @n8n/community-nodes/no-dangerous-functions -- benchmark code, not node code: the HTTPS client ("Graph") runs in a child process (bench/ackClient.js). */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IExecuteFunctions, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { readAppCredential } from '../lib/auth/appCredential';
import { acquireGraphToken, forgetGraphClients } from '../lib/auth/graphTokenProvider';
import { generateSelfSignedCertificate, type RsaKeySize } from '../lib/certificates/generateSelfSignedCertificate';
import type { StoredSubscription } from '../test/simulator';
import { cachedServerCertificate } from '../test/simulator/testCa';
import { capturedLogs } from '../test/support/n8nTriggerHarness';
import { appCredentialFor, CLIENT_ID, startTriggerFixture, USERS, type TriggerFixture } from '../test/support/triggerFixture';
import { callEventOfAbout1Kb } from './payloads';
import { collectGarbage, log, median, now, percentile, wallClock } from './stats';

interface ClientResult {
	status?: number;
	error?: string;
	started: number;
	headersAt: number;
	endedAt: number;
}

/** The HTTPS client ("Graph") in its own process; see ackClient.js. */
export class AckClient {
	private nextId = 1;
	private readonly waiting = new Map<number, (result: ClientResult) => void>();

	private constructor(private readonly child: ChildProcess) {
		child.on('message', (message: { id?: number } & ClientResult) => {
			if (message.id === undefined) return;
			this.waiting.get(message.id)?.(message);
			this.waiting.delete(message.id);
		});
	}

	static async start(): Promise<AckClient> {
		const child = fork(resolve('bench', 'ackClient.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		await new Promise<void>((ready, fail) => {
			child.once('message', () => ready());
			child.once('exit', (code) => fail(new Error(`ackClient exited with ${String(code)}`)));
		});
		return new AckClient(child);
	}

	post(url: string, bodyFile: string): Promise<ClientResult> {
		const id = this.nextId++;
		return new Promise((done) => {
			this.waiting.set(id, done);
			this.child.send({ type: 'post', id, url, bodyFile });
		});
	}

	async close(): Promise<void> {
		const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
		this.child.send({ type: 'exit' });
		await exited;
	}
}

interface ServerTiming {
	/** Request headers parsed by Node's HTTP server. */
	headersAt?: number;
	/** Last byte of the body received. */
	bodyReceivedAt?: number;
	enteredAt: number;
	responseFinishedAt?: number;
	responseStatus?: number;
	/** webhook() resolved: the batch admitted. */
	resolvedAt?: number;
	/** execute() resolved in the execution webhook() started: the items are ready for the next node. */
	executedAt?: number;
	items: number;
}

export interface BatchTiming {
	status?: number;
	/** Client: request start → response headers (the 2xx) arrived. */
	ackMs: number;
	/** Client request start → execute() resolved with every item (server clock, same machine). */
	readyMs: number;
	/** Server: webhook() entered → 202 handed to the socket. */
	serverAckMs: number;
	/** Server: webhook() entered → execute() resolved with every item. */
	serverReadyMs: number;
	/** Client request start → webhook() entered: TLS, upload and body parsing. */
	uploadAndParseMs: number;
	/** Client request start → request headers at the server (TCP + TLS handshake). */
	connectMs: number;
	/** Request headers → last body byte at the server. */
	uploadMs: number;
	/** Last body byte → webhook() entered: JSON body parsing, routing, WebhookContext. */
	parseMs: number;
	items: number;
	bodyBytes: number;
}

/** The trigger behind n8n-core's real WebhookContext (test harness), a real HTTPS endpoint, and "Graph". */
export class WebhookBench {
	private current?: ServerTiming;
	private arrival?: { headersAt: number; bodyReceivedAt?: number };
	private readonly bodyFile = join(tmpdir(), `teams-calls-bench-${process.pid}.json`);
	private readonly subscription: StoredSubscription;

	private constructor(
		readonly bits: RsaKeySize,
		readonly fixture: TriggerFixture,
		private readonly client: AckClient,
	) {
		this.subscription = fixture.sim.subscriptions()[0];
		// The harness's HTTPS server (private in TypeScript only): when headers and the last body byte arrive.
		const server = (fixture.harness as unknown as { server: import('node:https').Server }).server;
		server.prependListener('request', (request: import('node:http').IncomingMessage) => {
			const arrival: { headersAt: number; bodyReceivedAt?: number } = { headersAt: wallClock() };
			this.arrival = arrival;
			request.once('end', () => (arrival.bodyReceivedAt = wallClock()));
		});
		const nodeType = fixture.harness.nodeType;
		const original = nodeType.webhook!;
		// eslint-disable-next-line @typescript-eslint/no-this-alias
		const bench = this;
		// Time the node's own webhook function as n8n calls it: entered, 2xx handed to the socket, resolved.
		nodeType.webhook = async function timedWebhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
			const timing: ServerTiming = { enteredAt: wallClock(), items: 0, ...bench.arrival };
			bench.current = timing;
			const response = this.getResponseObject();
			// The moment the node hands its answer to the socket (response.end), not 'finish', which is
			// emitted later from the event loop and so would include decryption slices.
			const end = response.end;
			response.end = function timedEnd(this: typeof response, ...args: unknown[]) {
				timing.responseFinishedAt ??= wallClock();
				timing.responseStatus = response.statusCode;
				return (end as (...a: unknown[]) => typeof response).apply(this, args);
			} as typeof response.end;
			const result = await original.call(this);
			timing.resolvedAt = wallClock();
			return result;
		};
		const originalExecute = nodeType.execute!;
		// The second phase, in the execution webhook() started: decryption and deduplication, until the items are ready.
		nodeType.execute = async function timedExecute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const timing = bench.current;
			const output = (await originalExecute.call(this)) as INodeExecutionData[][];
			if (timing) {
				timing.executedAt = wallClock();
				timing.items = output[0]?.length ?? 0;
			}
			return output;
		};
	}

	static async start(bits: RsaKeySize): Promise<WebhookBench> {
		const certificate = generateSelfSignedCertificate({ keySize: bits, subject: `CN=bench webhook ${bits}` });
		const fixture = await startTriggerFixture(
			{ users: [USERS[0].id] },
			{
				certificateCredential: {
					certificateFormat: 'pem',
					certificatePem: certificate.certificatePem,
					privateKeyPem: certificate.privateKeyPem,
					certificateId: `bench-webhook-${bits}`,
				},
			},
		);
		await fixture.harness.activate();
		const subscriptions = fixture.sim.subscriptions();
		if (subscriptions.length !== 1) throw new Error(`expected 1 subscription after activation, got ${subscriptions.length}`);
		return new WebhookBench(bits, fixture, await AckClient.start());
	}

	/** Writes a batch of `count` fresh encrypted call events, with a valid validation token, to the body file. */
	prepareBatch(count: number, file = this.bodyFile): number {
		const { sim } = this.fixture;
		const value = Array.from({ length: count }, (_, i) =>
			sim.notificationFor(this.subscription, callEventOfAbout1Kb(this.subscription.resource, i % 2 ? 'ended' : 'started')),
		);
		const body = JSON.stringify({
			value,
			validationTokens: [sim.validationTokenFor(this.subscription.applicationId, this.subscription.tenantId)],
		});
		writeFileSync(file, body);
		return Buffer.byteLength(body);
	}

	/** Posts the prepared batch and waits until the client has its answer and the trigger has finished. */
	async deliverPrepared(count: number, bodyBytes: number): Promise<BatchTiming> {
		this.current = undefined;
		const url = this.fixture.harness.url('notify').replace('//localhost:', '//127.0.0.1:');
		const result = await this.client.post(url, this.bodyFile);
		await this.fixture.harness.settled();
		const server = this.current as ServerTiming | undefined;
		if (result.error || !server?.resolvedAt || !server.executedAt || server.responseFinishedAt === undefined) {
			throw new Error(`batch of ${count} failed: ${result.error ?? `status ${String(result.status)}`}; logs: ${capturedLogs.slice(-3).map((l) => l.message).join(' | ')}`);
		}
		if (server.items !== count) {
			throw new Error(`batch of ${count} produced ${server.items} items; logs: ${capturedLogs.slice(-3).map((l) => l.message).join(' | ')}`);
		}
		// Nothing accumulates between batches in the harness's own records.
		this.fixture.harness.executions.length = 0;
		capturedLogs.length = 0;
		return {
			status: result.status,
			ackMs: result.headersAt - result.started,
			readyMs: server.executedAt - result.started,
			serverAckMs: server.responseFinishedAt - server.enteredAt,
			serverReadyMs: server.executedAt - server.enteredAt,
			uploadAndParseMs: server.enteredAt - result.started,
			connectMs: (server.headersAt ?? NaN) - result.started,
			uploadMs: (server.bodyReceivedAt ?? NaN) - (server.headersAt ?? NaN),
			parseMs: server.enteredAt - (server.bodyReceivedAt ?? NaN),
			items: server.items,
			bodyBytes,
		};
	}

	/**
	 * Graph does not wait for one delivery before the next: the 2xx of a 1-item batch posted while a batch
	 * of `big` items is being decrypted (sent 10 ms after the big batch's own 2xx arrived).
	 */
	async ackDuringDecryption(big: number): Promise<{ smallAckMs: number; bigAckMs: number; items: number }> {
		const smallFile = `${this.bodyFile}.small`;
		this.prepareBatch(big);
		this.prepareBatch(1, smallFile);
		const url = this.fixture.harness.url('notify').replace('//localhost:', '//127.0.0.1:');
		const bigResult = this.client.post(url, this.bodyFile);
		const bigAnswer = await bigResult;
		await new Promise((done) => setTimeout(done, 10));
		const smallAnswer = await this.client.post(url, smallFile);
		await this.fixture.harness.settled();
		const items = this.fixture.harness.executions.reduce((n, e) => n + e.items.length, 0);
		this.fixture.harness.executions.length = 0;
		capturedLogs.length = 0;
		rmSync(smallFile, { force: true });
		if (bigAnswer.status !== 202 || smallAnswer.status !== 202 || items !== big + 1) {
			throw new Error(`concurrent delivery: statuses ${String(bigAnswer.status)}/${String(smallAnswer.status)}, ${items} items`);
		}
		return { smallAckMs: smallAnswer.headersAt - smallAnswer.started, bigAckMs: bigAnswer.headersAt - bigAnswer.started, items };
	}

	/** The prepared body to a bare HTTPS express.json() endpoint that answers 202 immediately. */
	async postToFloor(): Promise<ClientResult> {
		if (!this.floorUrl) {
			const app = express();
			app.use(express.json({ limit: '16mb' }));
			app.post('/floor', (_request, response) => {
				response.status(202).end();
			});
			const certificate = cachedServerCertificate(['localhost', '127.0.0.1']);
			const server = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, app);
			await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
			this.floorServer = server;
			this.floorUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/floor`;
		}
		return this.client.post(this.floorUrl, this.bodyFile);
	}

	private floorUrl?: string;
	private floorServer?: import('node:https').Server;

	async deliver(count: number): Promise<BatchTiming> {
		const bodyBytes = this.prepareBatch(count);
		// Generating the batch (1,000 RSA encryptions and their JSON) happens in this process, which also
		// hosts the webhook: its garbage must not be timed as the trigger's acknowledgement.
		collectGarbage();
		return this.deliverPrepared(count, bodyBytes);
	}

	async close(): Promise<void> {
		await this.client.close();
		await new Promise<void>((done) => (this.floorServer ? this.floorServer.close(() => done()) : done()));
		await this.fixture.close();
		rmSync(this.bodyFile, { force: true });
	}
}

export interface AckRow {
	bits: RsaKeySize;
	batch: number;
	reps: number;
	bodyKiB: number;
	ackMedianMs: number;
	ackMaxMs: number;
	readyMedianMs: number;
	readyMaxMs: number;
	serverAckMedianMs: number;
	uploadAndParseMedianMs: number;
	connectMedianMs: number;
	uploadMedianMs: number;
	parseMedianMs: number;
	/** Only on the batch=1 "during" row: 2xx of 1 item posted while a batch of 1,000 decrypts. */
	duringBigBatch?: { smallAckMedianMs: number; smallAckMaxMs: number; reps: number; samples: number[] };
	/** The same body to a bare express.json() endpoint that answers 202 at once: the host's floor. */
	floorAckMedianMs?: number;
	floorAckMaxMs?: number;
	statuses: number[];
	samples: BatchTiming[];
}

export async function benchAck(bench: WebhookBench, plan: Array<{ batch: number; reps: number }>): Promise<AckRow[]> {
	// Warm-up: first JWKS fetch, credential parsing, JIT; not counted.
	for (let i = 0; i < 3; i++) await bench.deliver(1);
	await bench.deliver(100);
	const rows: AckRow[] = [];
	for (const { batch, reps } of plan) {
		log(`part 2: RSA-${bench.bits}, batches of ${batch} × ${reps}`);
		const samples: BatchTiming[] = [];
		const floor: number[] = [];
		for (let rep = 0; rep < reps; rep++) {
			samples.push(await bench.deliver(batch));
			// Same body (still in the file), same client, to the bare endpoint, interleaved.
			const bare = await bench.postToFloor();
			if (bare.status === 202) floor.push(bare.headersAt - bare.started);
		}
		const ack = samples.map((s) => s.ackMs);
		const ready = samples.map((s) => s.readyMs);
		rows.push({
			bits: bench.bits,
			batch,
			reps,
			bodyKiB: Math.round(median(samples.map((s) => s.bodyBytes)) / 1024),
			ackMedianMs: median(ack),
			ackMaxMs: Math.max(...ack),
			readyMedianMs: median(ready),
			readyMaxMs: Math.max(...ready),
			serverAckMedianMs: median(samples.map((s) => s.serverAckMs)),
			uploadAndParseMedianMs: median(samples.map((s) => s.uploadAndParseMs)),
			connectMedianMs: median(samples.map((s) => s.connectMs)),
			uploadMedianMs: median(samples.map((s) => s.uploadMs)),
			parseMedianMs: median(samples.map((s) => s.parseMs)),
			floorAckMedianMs: median(floor),
			floorAckMaxMs: Math.max(...floor),
			statuses: [...new Set(samples.map((s) => s.status ?? 0))],
			samples,
		});
	}
	const concurrentReps = plan.find((p) => p.batch === 1000)?.reps ?? 0;
	const bigRow = rows.find((r) => r.batch === 1000);
	if (bigRow && concurrentReps > 0) {
		log(`part 2: RSA-${bench.bits}, 1 item posted while 1,000 decrypt × ${concurrentReps}`);
		const samples: number[] = [];
		for (let rep = 0; rep < concurrentReps; rep++) samples.push((await bench.ackDuringDecryption(1000)).smallAckMs);
		bigRow.duringBigBatch = { smallAckMedianMs: median(samples), smallAckMaxMs: Math.max(...samples), reps: concurrentReps, samples };
	}
	return rows;
}

export interface MemoryResult {
	batches: number;
	batchSize: number;
	bits: RsaKeySize;
	/** heapUsed after global.gc() following each batch, MiB. */
	heapAfterBatchMiB: number[];
	firstMiB: number;
	afterDedupFillMiB: number;
	lastMiB: number;
	/** Least-squares slope of heap-after-gc over the batches after the dedup cache is full (KiB per batch). */
	slopeKiBPerBatch: number;
	peakHeapAfterGcMiB: number;
	/** Highest heapUsed sampled every 5 ms while batches were processed (garbage included). */
	peakHeapSampledMiB: number;
	peakRssMiB: number;
	ackMedianMs: number;
	ackMaxMs: number;
	readyMedianMs: number;
	readyMaxMs: number;
	wallSeconds: number;
}

const MiB = 2 ** 20;

function gcHeap(): number {
	const gc = (global as { gc?: () => void }).gc;
	if (!gc) throw new Error('run node with --expose-gc (npm run bench does)');
	gc();
	gc();
	return process.memoryUsage().heapUsed;
}

export async function benchMemory(bench: WebhookBench, batches: number, batchSize: number, dedupCapacity: number): Promise<MemoryResult> {
	const heaps: number[] = [];
	const timings: BatchTiming[] = [];
	let peakSampled = 0;
	const sampler = setInterval(() => {
		peakSampled = Math.max(peakSampled, process.memoryUsage().heapUsed);
	}, 5);
	const started = now();
	try {
		for (let i = 0; i < batches; i++) {
			const bodyBytes = bench.prepareBatch(batchSize);
			gcHeap();
			timings.push(await bench.deliverPrepared(batchSize, bodyBytes));
			heaps.push(gcHeap());
			if ((i + 1) % 10 === 0) log(`part 3: ${i + 1}/${batches} batches, heap after gc ${(heaps[i] / MiB).toFixed(1)} MiB`);
		}
	} finally {
		clearInterval(sampler);
	}
	// The deduplication memory holds up to its capacity of call events; after that nothing may grow.
	const fillIndex = Math.min(heaps.length - 1, Math.ceil(dedupCapacity / batchSize));
	const tail = heaps.slice(fillIndex);
	const xs = tail.map((_, i) => i);
	const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
	const meanY = tail.reduce((a, b) => a + b, 0) / tail.length;
	const slope =
		xs.reduce((a, x, i) => a + (x - meanX) * (tail[i] - meanY), 0) / Math.max(1e-9, xs.reduce((a, x) => a + (x - meanX) ** 2, 0));
	return {
		batches,
		batchSize,
		bits: bench.bits,
		heapAfterBatchMiB: heaps.map((h) => Math.round((h / MiB) * 100) / 100),
		firstMiB: heaps[0] / MiB,
		afterDedupFillMiB: heaps[fillIndex] / MiB,
		lastMiB: heaps[heaps.length - 1] / MiB,
		slopeKiBPerBatch: slope / 1024,
		peakHeapAfterGcMiB: Math.max(...heaps) / MiB,
		peakHeapSampledMiB: peakSampled / MiB,
		peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
		ackMedianMs: median(timings.map((t) => t.ackMs)),
		ackMaxMs: Math.max(...timings.map((t) => t.ackMs)),
		readyMedianMs: median(timings.map((t) => t.readyMs)),
		readyMaxMs: Math.max(...timings.map((t) => t.readyMs)),
		wallSeconds: (now() - started) / 1000,
	};
}

export interface TokenResult {
	concurrentCalls: number;
	tokenRequests: number;
	loginHostRequests: number;
	distinctTokens: number;
	elapsedMs: number;
	secondWaveTokenRequests: number;
	secondWaveMs: number;
}

/** 1,000 concurrent acquireGraphToken calls for one credential, from a cold process state. */
export async function benchTokens(fixture: TriggerFixture, calls: number): Promise<TokenResult> {
	const { sim } = fixture;
	const credential = readAppCredential(appCredentialFor(sim));
	forgetGraphClients();
	sim.clearRequests();
	const before = sim.tokenRequestCount(CLIENT_ID);
	let started = now();
	const tokens = await Promise.all(Array.from({ length: calls }, () => acquireGraphToken(credential)));
	const elapsedMs = now() - started;
	const tokenRequests = sim.tokenRequestCount(CLIENT_ID) - before;
	const loginHostRequests = sim.countRequests({ host: 'login' });
	started = now();
	await Promise.all(Array.from({ length: calls }, () => acquireGraphToken(credential)));
	const secondWaveMs = now() - started;
	return {
		concurrentCalls: calls,
		tokenRequests,
		loginHostRequests,
		distinctTokens: new Set(tokens).size,
		elapsedMs,
		secondWaveTokenRequests: sim.tokenRequestCount(CLIENT_ID) - before - tokenRequests,
		secondWaveMs,
	};
}

export { percentile };
