/**
 * A queue-mode n8n as teams run it: Postgres and Redis (real servers, test/e2e/services.ts), a main
 * (`n8n start` with N8N_DISABLE_PRODUCTION_MAIN_PROCESS=true: editor, REST, activation, timers), one or
 * more `n8n webhook` processes and an `n8n worker`, all with the same encryption key and the built
 * package. One public HTTPS address sits in front, as a load balancer would: `/webhook/*` goes to the
 * webhook processes (round robin), everything else (`/webhook-test/*`, REST) to the main. Every process's
 * N8N_WEBHOOK_URL is that address, so the subscriptions the main creates point Graph at the webhook
 * processes. Variable names checked against n8n 2.41.1's @n8n/config.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';

import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions, type StoredSubscription } from '../simulator';
import { ensureTestCa, issueServerCertificate } from '../simulator/testCa';
import { CLIENT_ID, simulatorAppCredential, TENANT, USERS } from '../support/simulatorTenant';
import { generateEncryptionCertificate, NODE_TYPE, TRIGGER_NODE, waitFor, type EncryptionCertificate, type TriggerWorkflow } from './e2eEnvironment';
import { N8nApi, outputOf, type N8nExecution } from './n8nApi';
import { ensureN8n, freePort, N8nProcess, requireBuiltPackage, type N8nProcessOptions } from './n8nProcess';
import { PostgresServer, RedisServer } from './services';

export const ONCE_PER_CALL_EVENT = 'Once per call event';

export interface QueueModeOptions {
	simulator?: GraphSimulatorOptions;
	/** How many `n8n webhook` processes behind the public address (default 1). */
	webhookProcesses?: number;
	/** Extra environment for every n8n process. */
	n8nEnv?: Record<string, string>;
	keep?: boolean;
}

/** Requests the public address forwarded, by upstream. */
export interface RoutedRequest {
	time: number;
	method: string;
	path: string;
	upstream: string;
	status: number;
}

/**
 * The public address: an HTTPS reverse proxy with the load balancer's routing rule. `/webhook/` goes to
 * the webhook processes in turn (skipping stopped ones); anything else goes to the main.
 */
class PublicAddress {
	readonly log: RoutedRequest[] = [];
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
			const entry: RoutedRequest = { time: Date.now(), method: req.method ?? '', path: req.url ?? '', upstream: upstream ? this.names(upstream) : 'none', status: 0 };
			this.log.push(entry);
			if (!upstream || !upstream.isRunning) {
				entry.status = 502;
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
					upstreamRes.pipe(res);
				},
			);
			forward.on('timeout', () => forward.destroy(new Error('upstream timeout')));
			forward.on('error', () => {
				entry.status = 502;
				if (!res.headersSent) res.writeHead(502);
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
			if (candidate.isRunning) {
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

export class QueueModeEnvironment {
	readonly processes = new Map<string, N8nProcess>();
	readonly credentials: { app: { id: string; name: string }; certificate: { id: string; name: string } } = {
		app: { id: '', name: '' },
		certificate: { id: '', name: '' },
	};
	api!: N8nApi;
	sim!: GraphSimulator;
	publicAddress!: PublicAddress;
	postgres: PostgresServer | undefined;
	redis: RedisServer | undefined;
	certificate!: EncryptionCertificate;
	clientSecret = '';
	private tlsPaths!: N8nProcessOptions['tls'];

	private constructor(
		readonly tmp: string,
		private readonly options: QueueModeOptions,
	) {}

	get main(): N8nProcess {
		return this.processes.get('main')!;
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
			await env.startSimulator();
			const ca = ensureTestCa();
			const serverCert = issueServerCertificate(ca, ['localhost', '127.0.0.1']);
			const tlsDir = path.join(tmp, 'tls');
			const certificateDir = path.join(tmp, 'encryption-certificate');
			for (const dir of [tlsDir, certificateDir]) mkdirSync(dir, { recursive: true });
			writeFileSync(path.join(tlsDir, 'server-cert.pem'), serverCert.certPem);
			writeFileSync(path.join(tlsDir, 'server-key.pem'), serverCert.keyPem, { mode: 0o600 });
			env.tlsPaths = {
				certPath: path.join(tlsDir, 'server-cert.pem'),
				keyPath: path.join(tlsDir, 'server-key.pem'),
				caPath: ca.caCertPath,
				caPem: ca.caCertPem,
			};
			env.certificate = generateEncryptionCertificate(certificateDir);

			env.publicAddress = new PublicAddress(
				{ cert: serverCert.certPem, key: serverCert.keyPem, ca: ca.caCertPem },
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
					encryptionKey: 'e2e-fixed-encryption-key-0123456789abcdef',
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
			for (let i = 0; i < (options.webhookProcesses ?? 1); i++) others.push(await add(`webhook-${i}`, 'webhook'));
			others.push(await add('worker', 'worker'));
			await Promise.all(others.map((p) => p.start()));

			env.api = new N8nApi(env.main.baseUrl, ca.caCertPem);
			await env.api.setUp();
			env.credentials.app = await env.api.createCredential('Graph app (simulator)', 'microsoftGraphAppApi', simulatorAppCredential(env.sim, env.clientSecret));
			env.credentials.certificate = await env.api.createCredential('Notification certificate (e2e)', 'microsoftGraphNotificationCertificateApi', {
				certificateFormat: 'pem',
				certificatePem: env.certificate.certificatePem,
				privateKeyPem: env.certificate.privateKeyPem,
				certificateId: env.certificate.certificateId,
			});
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

	private async startSimulator(): Promise<void> {
		this.sim = await startGraphSimulator({ validationTimeoutMs: 10_000, ...this.options.simulator });
		this.sim.registerTenant(TENANT);
		this.clientSecret = `e2e~${randomBytes(18).toString('base64url')}`;
		this.sim.registerApp({
			tenantId: TENANT,
			clientId: CLIENT_ID,
			secrets: [{ value: this.clientSecret }],
			permissions: ['CallEvents.Read.All', 'User.Read.All'],
		});
		for (const user of USERS) this.sim.addUser(user);
	}

	/**
	 * trigger → NoOp, and trigger → "Once per call event": n8n's Remove Duplicates node keeping items whose
	 * call ID and event it has not seen in earlier executions (n8n keeps that history in its database).
	 */
	async createTriggerWorkflow(name: string, parameters: Record<string, unknown>): Promise<TriggerWorkflow> {
		const webhookId = randomUUID();
		const { id } = await this.api.createWorkflow({
			name,
			nodes: [
				{
					id: randomUUID(),
					name: TRIGGER_NODE,
					type: NODE_TYPE,
					typeVersion: 2,
					position: [0, 0],
					webhookId,
					parameters,
					credentials: {
						microsoftGraphAppApi: this.credentials.app,
						microsoftGraphNotificationCertificateApi: this.credentials.certificate,
					},
				},
				{ id: randomUUID(), name: 'NoOp', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, 0], parameters: {} },
				{
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
				},
			],
			connections: {
				[TRIGGER_NODE]: {
					main: [
						[
							{ node: 'NoOp', type: 'main', index: 0 },
							{ node: ONCE_PER_CALL_EVENT, type: 'main', index: 0 },
						],
					],
				},
			},
			settings: { executionOrder: 'v1' },
		});
		const base = this.publicAddress.url;
		return {
			id,
			webhookId,
			notifyUrl: `${base}/webhook/${webhookId}/notify`,
			lifecycleUrl: `${base}/webhook/${webhookId}/lifecycle`,
			testNotifyUrl: `${base}/webhook-test/${webhookId}/notify`,
			testLifecycleUrl: `${base}/webhook-test/${webhookId}/lifecycle`,
		};
	}

	live(workflow: TriggerWorkflow, userId?: string): StoredSubscription[] {
		return this.sim
			.subscriptions()
			.filter((s) => s.notificationUrl === workflow.notifyUrl && (userId === undefined || s.resource.includes(userId)));
	}

	async waitForSubscriptions(workflow: TriggerWorkflow, userIds: string[], timeoutMs = 30_000): Promise<StoredSubscription[]> {
		return waitFor(
			`one live subscription for each of ${userIds.length} user(s)`,
			() => {
				const live = this.live(workflow);
				const ok = userIds.every((id) => live.filter((s) => s.resource.includes(id)).length === 1);
				return ok && live.length === userIds.length ? live : undefined;
			},
			timeoutMs,
		);
	}

	async executions(workflow: TriggerWorkflow): Promise<N8nExecution[]> {
		return this.api.executions(workflow.id);
	}

	async waitForExecutions(workflow: TriggerWorkflow, count: number, timeoutMs = 60_000): Promise<N8nExecution[]> {
		return waitFor(
			`${count} finished execution(s)`,
			async () => {
				const all = await this.executions(workflow);
				return all.length >= count && all.every((e) => e.status !== 'running' && e.status !== 'new') ? all : undefined;
			},
			timeoutMs,
			500,
		);
	}

	itemsOf(execution: N8nExecution, nodeName = TRIGGER_NODE): Array<Record<string, unknown>> {
		return outputOf(execution, nodeName);
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
