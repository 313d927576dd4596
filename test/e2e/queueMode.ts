/**
 * A queue-mode n8n as teams run it: Postgres and Redis (real servers, test/e2e/services.ts), a main
 * (`n8n start` with N8N_DISABLE_PRODUCTION_MAIN_PROCESS=true: editor, REST, activation, timers), one or
 * more `n8n webhook` processes and an `n8n worker`, all with the same encryption key and the built
 * package. One public HTTPS address sits in front, as a load balancer would: `/webhook/*` goes to the
 * webhook processes (round robin), everything else (`/webhook-test/*`, REST) to the main. Every process's
 * N8N_WEBHOOK_URL is that address, so the subscriptions the main creates point Graph at the webhook
 * processes. Variable names checked against n8n 2.41.1's @n8n/config.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';

import type { GraphSimulator, GraphSimulatorOptions } from '../simulator';
import { N8nApi } from './n8nApi';
import { ensureN8n, freePort, N8nProcess, requireBuiltPackage, type N8nProcessOptions } from './n8nProcess';
import { PostgresServer, RedisServer } from './services';
import {
	createTriggerCredentials,
	ENCRYPTION_KEY,
	startTenantSimulator,
	TriggerEnvironment,
	waitFor,
	writeCertificates,
	type EncryptionCertificate,
	type TriggerCredentials,
	type TriggerWorkflow,
} from './triggerEnvironment';

export const ONCE_PER_CALL_EVENT = 'Once per call event';

export interface QueueModeOptions {
	simulator?: GraphSimulatorOptions;
	/** How many `n8n webhook` processes behind the public address (default 1). */
	webhookProcesses?: number;
	/**
	 * How many `n8n start` mains on the same Postgres and Redis (default 1). Without n8n's multi-main licence
	 * there is no leader election: each main counts itself the leader and runs every trigger's timer.
	 */
	mains?: number;
	/** Extra environment for every n8n process. */
	n8nEnv?: Record<string, string>;
	/** The app registration's application permissions (default: what Call Events needs). */
	appPermissions?: string[];
	keep?: boolean;
}

/** Requests the public address forwarded, by upstream. */
export interface RoutedRequest {
	time: number;
	method: string;
	path: string;
	upstream: string;
	status: number;
	/** When the upstream's answer was complete (0 if none). */
	answeredAt: number;
	/** The sender's X-Request-Id, so a test can tell which deliveries belong to one event. */
	requestId?: string;
}

/**
 * The public address: an HTTPS reverse proxy with the load balancer's routing rule. `/webhook/` goes to
 * the webhook processes in turn (skipping stopped ones while `healthChecks` is on); anything else goes to
 * the main. A stopped upstream is answered 502, as a balancer does before its health check notices.
 */
class PublicAddress {
	readonly log: RoutedRequest[] = [];
	healthChecks = true;
	private next = 0;
	private server: Server | undefined;
	url = '';

	constructor(
		private readonly tls: { cert: string; key: string; ca: string },
		private readonly main: () => N8nProcess,
		private readonly webhooks: () => N8nProcess[],
		private readonly names: (p: N8nProcess) => string,
	) {}

	async listen(port: number): Promise<void> {
		this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => {
			const isProduction = (req.url ?? '').startsWith('/webhook/');
			const upstream = isProduction ? this.pickWebhook() : this.main();
			const requestId = req.headers['x-request-id'];
			const entry: RoutedRequest = {
				time: Date.now(),
				method: req.method ?? '',
				path: req.url ?? '',
				upstream: upstream ? this.names(upstream) : 'none',
				status: 0,
				answeredAt: 0,
				requestId: typeof requestId === 'string' ? requestId : undefined,
			};
			this.log.push(entry);
			if (!upstream || !upstream.isRunning) {
				entry.status = 502;
				entry.answeredAt = Date.now();
				res.writeHead(502).end();
				return;
			}
			const target = new URL(req.url ?? '/', upstream.baseUrl);
			const forward = request(
				target,
				{ method: req.method, headers: { ...req.headers, host: target.host }, ca: this.tls.ca, timeout: 30_000 },
				(upstreamRes) => {
					entry.status = upstreamRes.statusCode ?? 0;
					res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
					upstreamRes.on('end', () => (entry.answeredAt = Date.now()));
					upstreamRes.pipe(res);
				},
			);
			forward.on('timeout', () => forward.destroy(new Error('upstream timeout')));
			forward.on('error', () => {
				entry.answeredAt = Date.now();
				if (!res.headersSent) {
					entry.status = 502;
					res.writeHead(502);
				}
				res.end();
			});
			req.pipe(forward);
		});
		await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
		this.url = `https://localhost:${port}`;
	}

	private pickWebhook(): N8nProcess | undefined {
		const all = this.webhooks();
		for (let i = 0; i < all.length; i++) {
			const candidate = all[(this.next + i) % all.length];
			if (candidate.isRunning || !this.healthChecks) {
				this.next = (this.next + i + 1) % all.length;
				return candidate;
			}
		}
		return all[0];
	}

	close(): Promise<void> {
		return new Promise((resolve) => {
			if (!this.server) return resolve();
			this.server.closeAllConnections();
			this.server.close(() => resolve());
		});
	}
}

export class QueueModeEnvironment extends TriggerEnvironment {
	readonly processes = new Map<string, N8nProcess>();
	credentials!: TriggerCredentials;
	api!: N8nApi;
	sim!: GraphSimulator;
	publicAddress!: PublicAddress;
	postgres: PostgresServer | undefined;
	redis: RedisServer | undefined;
	certificate!: EncryptionCertificate;
	clientSecret = '';
	private tlsPaths!: N8nProcessOptions['tls'];
	// Executions pass through Redis and a worker.
	protected override readonly executionsTimeoutMs = 60_000;

	private constructor(
		readonly tmp: string,
		private readonly options: QueueModeOptions,
	) {
		super();
	}

	get main(): N8nProcess {
		return this.processes.get('main')!;
	}

	/** The mains: `main` (behind the public address) first, then `main-1`, … */
	mainProcesses(): N8nProcess[] {
		return [...this.processes.entries()].filter(([name]) => name === 'main' || name.startsWith('main-')).map(([, p]) => p);
	}

	get worker(): N8nProcess {
		return this.processes.get('worker')!;
	}

	webhook(index = 0): N8nProcess {
		return this.processes.get(`webhook-${index}`)!;
	}

	webhookProcesses(): N8nProcess[] {
		return [...this.processes.entries()].filter(([name]) => name.startsWith('webhook-')).map(([, p]) => p);
	}

	nameOf(process: N8nProcess): string {
		for (const [name, p] of this.processes) if (p === process) return name;
		return 'unknown';
	}

	static async start(options: QueueModeOptions = {}): Promise<QueueModeEnvironment> {
		const dist = requireBuiltPackage();
		const paths = ensureN8n();
		const tmp = mkdtempSync(path.join(os.tmpdir(), 'teams-calls-queue-'));
		// Postgres runs as its own system user under here (when the tests run as root).
		chmodSync(tmp, 0o755);
		const env = new QueueModeEnvironment(tmp, options);
		try {
			await env.startServices();
			const tenant = await startTenantSimulator(options.simulator, options.appPermissions);
			env.sim = tenant.sim;
			env.clientSecret = tenant.clientSecret;
			const { tls, serverCert, certificate } = writeCertificates(tmp);
			env.tlsPaths = tls;
			env.certificate = certificate;

			env.publicAddress = new PublicAddress(
				{ cert: serverCert.certPem, key: serverCert.keyPem, ca: tls.caPem },
				() => env.main,
				() => env.webhookProcesses(),
				(p) => env.nameOf(p),
			);
			await env.publicAddress.listen(await freePort());

			const common: Record<string, string> = {
				...env.postgres!.n8nEnv(),
				...env.redis!.n8nEnv(),
				EXECUTIONS_MODE: 'queue',
				QUEUE_HEALTH_CHECK_ACTIVE: 'true',
				// Graph and the editor see one public address; the main derives the subscriptions' URLs from it.
				N8N_WEBHOOK_URL: `${env.publicAddress.url}/`,
				N8N_EDITOR_BASE_URL: `${env.publicAddress.url}/`,
				...options.n8nEnv,
			};
			const add = async (name: string, command: 'start' | 'webhook' | 'worker', extra: Record<string, string> = {}) => {
				const port = await freePort();
				const healthPort = await freePort();
				const process = new N8nProcess({
					paths,
					userFolder: path.join(tmp, name),
					port,
					brokerPort: await freePort(),
					tls: env.tlsPaths,
					customExtensions: dist,
					encryptionKey: ENCRYPTION_KEY,
					command,
					readinessUrl: command === 'worker' ? `http://127.0.0.1:${healthPort}/healthz/readiness` : undefined,
					extraEnv: { ...common, QUEUE_HEALTH_CHECK_PORT: String(healthPort), ...extra },
				});
				env.processes.set(name, process);
				return process;
			};
			// The main first: it runs the database migrations the others wait for.
			await (await add('main', 'start', { N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' })).start();
			const others: N8nProcess[] = [];
			for (let i = 1; i < (options.mains ?? 1); i++) others.push(await add(`main-${i}`, 'start', { N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' }));
			for (let i = 0; i < (options.webhookProcesses ?? 1); i++) others.push(await add(`webhook-${i}`, 'webhook'));
			others.push(await add('worker', 'worker'));
			await Promise.all(others.map((p) => p.start()));

			env.api = new N8nApi(env.main.baseUrl, tls.caPem);
			await env.api.setUp();
			env.credentials = await createTriggerCredentials(env.api, env.sim, env.clientSecret, env.certificate);
			return env;
		} catch (error) {
			for (const [name, p] of env.processes) process.stderr.write(`${name} log tail:\n${p.tail(40)}\n`);
			await env.close();
			throw error;
		}
	}

	private async startServices(): Promise<void> {
		this.postgres = await PostgresServer.start(path.join(this.tmp, 'postgres'));
		this.redis = await RedisServer.start(path.join(this.tmp, 'redis'));
	}

	/**
	 * trigger → NoOp, and (unless `removeDuplicates` is false) trigger → "Once per call event": n8n's Remove
	 * Duplicates node keeping items whose call ID and event it has not seen in earlier executions (n8n keeps
	 * that history in its database).
	 */
	async createTriggerWorkflow(name: string, parameters: Record<string, unknown>, { removeDuplicates = true } = {}): Promise<TriggerWorkflow> {
		return this.createWorkflowWithTrigger(name, parameters, { alsoTo: removeDuplicates ? [this.onceNode()] : [] });
	}

	protected get publicUrl(): string {
		return this.publicAddress.url;
	}

	private onceNode(): Record<string, unknown> & { name: string } {
		return {
			id: randomUUID(),
			name: ONCE_PER_CALL_EVENT,
			type: 'n8n-nodes-base.removeDuplicates',
			typeVersion: 2,
			position: [260, 200],
			parameters: {
				operation: 'removeItemsSeenInPreviousExecutions',
				logic: 'removeItemsWithAlreadySeenKeyValues',
				dedupeValue: '={{ $json.callId }}:{{ $json.event }}',
				options: {},
			},
		};
	}

	/** Execution IDs a process's log says it enqueued (webhook, main) or ran (worker). */
	executionIdsIn(process: N8nProcess, verb: 'Enqueued execution' | 'Worker finished execution'): string[] {
		const pattern = new RegExp(`${verb} (\\d+) `, 'g');
		return [...process.logs().matchAll(pattern)].map((m) => m[1]);
	}

	/** Stops the main, runs `whileStopped`, starts it again and logs in. */
	async restartMain(whileStopped?: () => void | Promise<void>): Promise<void> {
		await this.main.stop();
		await whileStopped?.();
		await this.main.start();
		await this.api.login();
	}

	/** n8n's APIs on one main, with the owner's API key and a login of its own. */
	async apiOn(main: N8nProcess): Promise<N8nApi> {
		if (main === this.main) return this.api;
		const api = new N8nApi(main.baseUrl, this.tlsPaths.caPem);
		api.apiKey = this.api.apiKey;
		await api.login();
		return api;
	}

	/**
	 * Every n8n process stopped (worker, webhook processes, then the main), `whileStopped`, and all started again, the
	 * main first: an instance that was down.
	 */
	async restartAll(whileStopped?: () => void | Promise<void>): Promise<void> {
		const byRank = [...this.processes.entries()].sort(([a], [b]) => rank(a) - rank(b));
		for (const [, p] of byRank) await p.stop();
		await whileStopped?.();
		await this.main.start();
		await Promise.all(byRank.filter(([name]) => name !== 'main').map(([, p]) => p.start()));
		await this.api.login();
	}

	/** SIGKILL to a process (and its task runner): no shutdown at all; resolves once it is gone. */
	async kill(target: N8nProcess): Promise<number> {
		const pid = target.pid;
		if (pid === undefined || !target.isRunning) throw new Error(`${this.nameOf(target)} is not running`);
		const killedAt = Date.now();
		process.kill(-pid, 'SIGKILL');
		await waitFor(`${this.nameOf(target)} to die`, () => !target.isRunning, 10_000, 20);
		await target.stop();
		return killedAt;
	}

	/** Every log, by process. */
	logs(): string {
		return [...this.processes].map(([name, p]) => `===== ${name} =====\n${p.logs()}`).join('\n');
	}

	async close(): Promise<void> {
		// Executions first (worker), then the webhook processes, then the main; the services last.
		const order = [...this.processes.entries()].sort(([a], [b]) => rank(a) - rank(b)).map(([, p]) => p);
		for (const p of order) await p.stop().catch(() => undefined);
		await this.publicAddress?.close().catch(() => undefined);
		await this.sim?.close().catch(() => undefined);
		await this.redis?.stop().catch(() => undefined);
		await this.postgres?.stop().catch(() => undefined);
		if (!(this.options.keep ?? process.env.N8N_E2E_KEEP === '1')) rmSync(this.tmp, { recursive: true, force: true });
		else process.stderr.write(`e2e: kept ${this.tmp}\n`);
	}
}

function rank(name: string): number {
	return name === 'worker' ? 0 : name.startsWith('webhook') ? 1 : 2;
}
