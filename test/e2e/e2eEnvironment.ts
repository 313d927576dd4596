/**
 * One end-to-end environment: the Graph + login simulator in the jest process, a real n8n child
 * process (HTTPS, SQLite, the built package) that trusts the simulator's CA, an owner with an API key,
 * both credentials (Custom cloud pointing at the simulator, a freshly generated encryption
 * certificate), and helpers to create, activate and inspect trigger workflows.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions, type StoredSubscription } from '../simulator';
import { ensureTestCa, issueServerCertificate } from '../simulator/testCa';
import { CLIENT_ID, simulatorAppCredential, TENANT, USERS } from '../support/simulatorTenant';
import { N8nApi, outputOf, type N8nExecution } from './n8nApi';
import { ensureN8n, freePort, N8nProcess, REPO_ROOT, requireBuiltPackage, sleep } from './n8nProcess';

export { CLIENT_ID, TENANT, USERS } from '../support/simulatorTenant';
export const TRIGGER_NODE = 'Teams Call Trigger';
export const NODE_TYPE = 'CUSTOM.microsoftTeamsCallTrigger';
/** The type when n8n loads the package as an installed community package (`installedPackage`). */
export const INSTALLED_NODE_TYPE = 'n8n-nodes-teams-calls.microsoftTeamsCallTrigger';

export interface TriggerWorkflow {
	id: string;
	webhookId: string;
	notifyUrl: string;
	lifecycleUrl: string;
	testNotifyUrl: string;
	testLifecycleUrl: string;
}

export interface EncryptionCertificate {
	certificatePem: string;
	privateKeyPem: string;
	certificateId: string;
}

export async function waitFor<T>(
	what: string,
	probe: () => T | undefined | false | Promise<T | undefined | false>,
	timeoutMs = 30_000,
	intervalMs = 250,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const value = await probe();
			if (value !== undefined && value !== false) return value;
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) {
			throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
		}
		await sleep(intervalMs);
	}
}

/** A fresh certificate from the package's own tool (the built CLI). */
export function generateEncryptionCertificate(dir: string): EncryptionCertificate {
	execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'n8n-nodes-teams-calls.js'), 'generate-certificate', '--out', dir, '--subject', 'CN=n8n e2e notifications'], {
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	return {
		certificatePem: readFileSync(path.join(dir, 'certificate.pem'), 'utf8'),
		privateKeyPem: readFileSync(path.join(dir, 'private-key.pem'), 'utf8'),
		certificateId: `e2e-${randomBytes(4).toString('hex')}`,
	};
}

export interface E2eOptions {
	simulator?: GraphSimulatorOptions;
	/** Keep the temp folder (logs, SQLite) after close; also kept when N8N_E2E_KEEP=1. */
	keep?: boolean;
	/** Extra environment for n8n (a benchmark comparing n8n settings). */
	n8nEnv?: Record<string, string>;
	/**
	 * Load the package as Settings > Community nodes installs it (<user folder>/.n8n/nodes/node_modules,
	 * type `n8n-nodes-teams-calls.*`) instead of through N8N_CUSTOM_EXTENSIONS. Only then does the editor
	 * offer the credential test: n8n links credentials to the nodes that test them for packages only.
	 */
	installedPackage?: boolean;
}

/** <user folder>/.n8n/nodes/node_modules/n8n-nodes-teams-calls -> this repository (its dist/ and package.json). */
function installAsCommunityPackage(userFolder: string): void {
	const nodeModules = path.join(userFolder, '.n8n', 'nodes', 'node_modules');
	mkdirSync(nodeModules, { recursive: true });
	symlinkSync(REPO_ROOT, path.join(nodeModules, 'n8n-nodes-teams-calls'), 'dir');
}

export class E2eEnvironment {
	private constructor(
		readonly sim: GraphSimulator,
		readonly n8n: N8nProcess,
		readonly api: N8nApi,
		readonly tmp: string,
		readonly certificate: EncryptionCertificate,
		readonly credentials: { app: { id: string; name: string }; certificate: { id: string; name: string } },
		private readonly keep: boolean,
		/** The app credential's secret, so tests can check it never shows up in logs or outputs. */
		readonly clientSecret: string,
		/** The trigger's node type as this n8n knows it. */
		readonly nodeType: string = NODE_TYPE,
	) {}

	static async start(options: E2eOptions = {}): Promise<E2eEnvironment> {
		const dist = requireBuiltPackage();
		const paths = ensureN8n();
		const tmp = mkdtempSync(path.join(os.tmpdir(), 'teams-calls-e2e-'));
		let sim: GraphSimulator | undefined;
		let n8n: N8nProcess | undefined;
		try {
			sim = await startGraphSimulator({ validationTimeoutMs: 10_000, ...options.simulator });
			sim.registerTenant(TENANT);
			const clientSecret = `e2e~${randomBytes(18).toString('base64url')}`;
			sim.registerApp({
				tenantId: TENANT,
				clientId: CLIENT_ID,
				secrets: [{ value: clientSecret }],
				permissions: ['CallEvents.Read.All', 'User.Read.All'],
			});
			for (const user of USERS) sim.addUser(user);

			// n8n serves HTTPS with a certificate from the same CA the simulator uses, and trusts that CA.
			const ca = ensureTestCa();
			const serverCert = issueServerCertificate(ca, ['localhost', '127.0.0.1']);
			const tlsDir = path.join(tmp, 'tls');
			const certificateDir = path.join(tmp, 'encryption-certificate');
			for (const dir of [tlsDir, certificateDir]) mkdirSync(dir, { recursive: true });
			writeFileSync(path.join(tlsDir, 'server-cert.pem'), serverCert.certPem);
			writeFileSync(path.join(tlsDir, 'server-key.pem'), serverCert.keyPem, { mode: 0o600 });
			const certificate = generateEncryptionCertificate(certificateDir);

			const userFolder = path.join(tmp, 'n8n-home');
			let extraEnv = options.n8nEnv;
			if (options.installedPackage) {
				installAsCommunityPackage(userFolder);
				const noExtensions = path.join(tmp, 'no-custom-extensions');
				mkdirSync(noExtensions);
				extraEnv = { N8N_CUSTOM_EXTENSIONS: noExtensions, ...extraEnv };
			}
			n8n = new N8nProcess({
				paths,
				userFolder,
				port: await freePort(),
				brokerPort: await freePort(),
				tls: {
					certPath: path.join(tlsDir, 'server-cert.pem'),
					keyPath: path.join(tlsDir, 'server-key.pem'),
					caPath: ca.caCertPath,
					caPem: ca.caCertPem,
				},
				customExtensions: dist,
				encryptionKey: 'e2e-fixed-encryption-key-0123456789abcdef',
				extraEnv,
			});
			await n8n.start();
			const api = new N8nApi(n8n.baseUrl, ca.caCertPem);
			await api.setUp();
			const app = await api.createCredential(
				'Graph app (simulator)',
				'microsoftGraphAppApi',
				simulatorAppCredential(sim, clientSecret),
			);
			const cert = await api.createCredential('Notification certificate (e2e)', 'microsoftGraphNotificationCertificateApi', {
				certificateFormat: 'pem',
				certificatePem: certificate.certificatePem,
				privateKeyPem: certificate.privateKeyPem,
				certificateId: certificate.certificateId,
			});
			const nodeType = options.installedPackage ? INSTALLED_NODE_TYPE : NODE_TYPE;
			return new E2eEnvironment(sim, n8n, api, tmp, certificate, { app, certificate: cert }, options.keep ?? process.env.N8N_E2E_KEEP === '1', clientSecret, nodeType);
		} catch (error) {
			if (n8n) {
				process.stderr.write(`n8n log tail:\n${n8n.tail(80)}\n`);
				await n8n.stop();
			}
			await sim?.close();
			if (!(options.keep ?? process.env.N8N_E2E_KEEP === '1')) rmSync(tmp, { recursive: true, force: true });
			throw error;
		}
	}

	/** typeVersion: the node's current version unless a test needs a workflow saved by an older one. */
	workflowJson(name: string, parameters: Record<string, unknown>, webhookId: string, typeVersion = 2): Record<string, unknown> {
		return {
			name,
			nodes: [
				{
					id: randomUUID(),
					name: TRIGGER_NODE,
					type: this.nodeType,
					typeVersion,
					position: [0, 0],
					webhookId,
					parameters,
					credentials: {
						microsoftGraphAppApi: this.credentials.app,
						microsoftGraphNotificationCertificateApi: this.credentials.certificate,
					},
				},
				{ id: randomUUID(), name: 'NoOp', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, 0], parameters: {} },
			],
			connections: { [TRIGGER_NODE]: { main: [[{ node: 'NoOp', type: 'main', index: 0 }]] } },
			settings: { executionOrder: 'v1' },
		};
	}

	async createTriggerWorkflow(name: string, parameters: Record<string, unknown>, typeVersion?: number): Promise<TriggerWorkflow> {
		const webhookId = randomUUID();
		const { id } = await this.api.createWorkflow(this.workflowJson(name, parameters, webhookId, typeVersion));
		const base = this.n8n.baseUrl;
		return {
			id,
			webhookId,
			notifyUrl: `${base}/webhook/${webhookId}/notify`,
			lifecycleUrl: `${base}/webhook/${webhookId}/lifecycle`,
			testNotifyUrl: `${base}/webhook-test/${webhookId}/notify`,
			testLifecycleUrl: `${base}/webhook-test/${webhookId}/lifecycle`,
		};
	}

	/** Expression isolates n8n has built so far: its debug log says "Runtime bundle loaded" for each. */
	isolatesBuilt(): number {
		return this.n8n.logs().split('Runtime bundle loaded').length - 1;
	}

	/** Live subscriptions in the simulator for this workflow's production URL (optionally one user). */
	live(workflow: TriggerWorkflow, userId?: string): StoredSubscription[] {
		return this.sim
			.subscriptions()
			.filter((s) => s.notificationUrl === workflow.notifyUrl && (userId === undefined || s.resource.includes(userId)));
	}

	/**
	 * Waits until each user has exactly one live production subscription, and until n8n has finished
	 * publishing the workflow: n8n saves the activation's static data (the clientStates) only then, and a
	 * notification that arrives earlier is answered 401 (Graph would deliver it again).
	 */
	async waitForSubscriptions(workflow: TriggerWorkflow, userIds: string[], timeoutMs = 30_000): Promise<StoredSubscription[]> {
		const live = await waitFor(
			`one live subscription for each of ${userIds.length} user(s)`,
			() => {
				const found = this.live(workflow);
				const ok = userIds.every((id) => found.filter((s) => s.resource.includes(id)).length === 1);
				return ok && found.length === userIds.length ? found : undefined;
			},
			timeoutMs,
		);
		await waitFor('n8n to finish publishing the workflow', async () => {
			const status = await this.api.rest<{ data?: { status?: string }; status?: string }>('GET', `/workflows/${workflow.id}/publication-status`);
			return (status.body?.data?.status ?? status.body?.status) === 'published' ? true : undefined;
		}, 15_000, 100);
		return live;
	}

	async executions(workflow: TriggerWorkflow): Promise<N8nExecution[]> {
		return this.api.executions(workflow.id);
	}

	/** Waits until the workflow has `count` finished executions (and returns them). */
	async waitForExecutions(workflow: TriggerWorkflow, count: number, timeoutMs = 30_000): Promise<N8nExecution[]> {
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

	itemsOf(execution: N8nExecution): Array<Record<string, unknown>> {
		return outputOf(execution, TRIGGER_NODE);
	}

	/** SIGTERM n8n, run `whileStopped`, start it again on the same user folder. */
	async restart(whileStopped?: () => void | Promise<void>): Promise<void> {
		await this.n8n.stop();
		await whileStopped?.();
		await this.n8n.start();
		await this.api.login();
	}

	async close(): Promise<void> {
		await this.n8n.stop().catch(() => undefined);
		await this.sim.close().catch(() => undefined);
		if (!this.keep) rmSync(this.tmp, { recursive: true, force: true });
		else process.stderr.write(`e2e: kept ${this.tmp}\n`);
	}
}
