/**
 * What every e2e environment (one n8n: e2eEnvironment.ts; queue mode: queueMode.ts) does the same way:
 * the simulated tenant, the certificates, the trigger's credentials and workflows, and how it observes
 * the trigger's live subscriptions, n8n's publication of the workflow and the workflow's executions.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions, type StoredSubscription } from '../simulator';
import { ensureTestCa, issueServerCertificate } from '../simulator/testCa';
import { CLIENT_ID, simulatorAppCredential, TENANT, USERS } from '../support/simulatorTenant';
import { outputOf, runsOf, TRIGGER_NODE, type N8nApi, type N8nExecution } from './n8nApi';
import { REPO_ROOT, sleep, type N8nProcessOptions } from './n8nProcess';

export { TRIGGER_NODE };
export const NODE_TYPE = 'CUSTOM.microsoftTeamsCallTrigger';

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

export interface TriggerCredentials {
	app: { id: string; name: string };
	certificate: { id: string; name: string };
}

/** Every n8n process of an environment shares it. */
export const ENCRYPTION_KEY = 'e2e-fixed-encryption-key-0123456789abcdef';

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

/** What the e2e app is granted unless a test says otherwise: the preview source's permission and user lookups. */
export const DEFAULT_APP_PERMISSIONS = ['CallEvents.Read.All', 'User.Read.All'];

/** The Graph + login simulator with the e2e tenant, its app (with a fresh client secret) and its users. */
export async function startTenantSimulator(
	options?: GraphSimulatorOptions,
	appPermissions: string[] = DEFAULT_APP_PERMISSIONS,
): Promise<{ sim: GraphSimulator; clientSecret: string }> {
	const sim = await startGraphSimulator({ validationTimeoutMs: 10_000, ...options });
	sim.registerTenant(TENANT);
	const clientSecret = `e2e~${randomBytes(18).toString('base64url')}`;
	sim.registerApp({
		tenantId: TENANT,
		clientId: CLIENT_ID,
		secrets: [{ value: clientSecret }],
		permissions: appPermissions,
	});
	for (const user of USERS) sim.addUser(user);
	return { sim, clientSecret };
}

/**
 * Under `tmp`: n8n's HTTPS certificate, from the same CA the simulator uses (n8n trusts that CA), and a
 * fresh notification encryption certificate.
 */
export function writeCertificates(tmp: string): { tls: N8nProcessOptions['tls']; serverCert: { certPem: string; keyPem: string }; certificate: EncryptionCertificate } {
	const ca = ensureTestCa();
	const serverCert = issueServerCertificate(ca, ['localhost', '127.0.0.1']);
	const tlsDir = path.join(tmp, 'tls');
	const certificateDir = path.join(tmp, 'encryption-certificate');
	for (const dir of [tlsDir, certificateDir]) mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(tlsDir, 'server-cert.pem'), serverCert.certPem);
	writeFileSync(path.join(tlsDir, 'server-key.pem'), serverCert.keyPem, { mode: 0o600 });
	return {
		tls: { certPath: path.join(tlsDir, 'server-cert.pem'), keyPath: path.join(tlsDir, 'server-key.pem'), caPath: ca.caCertPath, caPem: ca.caCertPem },
		serverCert,
		certificate: generateEncryptionCertificate(certificateDir),
	};
}

/** Both credentials the trigger uses: the app (Custom cloud pointing at the simulator) and the certificate. */
export async function createTriggerCredentials(api: N8nApi, sim: GraphSimulator, clientSecret: string, certificate: EncryptionCertificate): Promise<TriggerCredentials> {
	const app = await api.createCredential('Graph app (simulator)', 'microsoftGraphAppApi', simulatorAppCredential(sim, clientSecret));
	const cert = await api.createCredential('Notification certificate (e2e)', 'microsoftGraphNotificationCertificateApi', {
		certificateFormat: 'pem',
		certificatePem: certificate.certificatePem,
		privateKeyPem: certificate.privateKeyPem,
		certificateId: certificate.certificateId,
	});
	return { app, certificate: cert };
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

export abstract class TriggerEnvironment {
	abstract readonly sim: GraphSimulator;
	abstract readonly api: N8nApi;
	abstract readonly credentials: TriggerCredentials;
	/** The public address Graph and tests reach `/webhook/…` and `/webhook-test/…` at. */
	protected abstract get publicUrl(): string;
	/** The trigger's node type as this n8n knows it (an installed package names it differently). */
	readonly nodeType: string = NODE_TYPE;
	/** How long waitForExecutions waits unless told. */
	protected readonly executionsTimeoutMs: number = 30_000;

	/**
	 * Creates trigger → NoOp (and trigger → each of `alsoTo`), with both credentials (only the app's with
	 * `withoutCertificate`, for a source whose notifications are not encrypted). typeVersion: the node's
	 * current version unless a test needs a workflow saved by an older one.
	 */
	protected async createWorkflowWithTrigger(
		name: string,
		parameters: Record<string, unknown>,
		{
			typeVersion = 2,
			alsoTo = [],
			withoutCertificate = false,
		}: { typeVersion?: number; alsoTo?: Array<Record<string, unknown> & { name: string }>; withoutCertificate?: boolean } = {},
	): Promise<TriggerWorkflow> {
		const webhookId = randomUUID();
		const trigger = {
			id: randomUUID(),
			name: TRIGGER_NODE,
			type: this.nodeType,
			typeVersion,
			position: [0, 0],
			webhookId,
			parameters,
			credentials: withoutCertificate
				? { microsoftGraphAppApi: this.credentials.app }
				: {
						microsoftGraphAppApi: this.credentials.app,
						microsoftGraphNotificationCertificateApi: this.credentials.certificate,
					},
		};
		const noOp = { id: randomUUID(), name: 'NoOp', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, 0], parameters: {} };
		const { id } = await this.api.createWorkflow({
			name,
			nodes: [trigger, noOp, ...alsoTo],
			connections: { [TRIGGER_NODE]: { main: [[noOp, ...alsoTo].map((node) => ({ node: node.name, type: 'main', index: 0 }))] } },
			settings: { executionOrder: 'v1' },
		});
		const base = this.publicUrl;
		return {
			id,
			webhookId,
			notifyUrl: `${base}/webhook/${webhookId}/notify`,
			lifecycleUrl: `${base}/webhook/${webhookId}/lifecycle`,
			testNotifyUrl: `${base}/webhook-test/${webhookId}/notify`,
			testLifecycleUrl: `${base}/webhook-test/${webhookId}/lifecycle`,
		};
	}

	/**
	 * "Listen for test event" in the editor: a manual run of the trigger, then the test subscriptions it
	 * makes (`subscriptions` of them) on the webhook-test URL.
	 */
	async listenForTestEvent(workflow: TriggerWorkflow, subscriptions: number): Promise<StoredSubscription[]> {
		const run = await this.api.rest<{ data?: { waitingForWebhook?: boolean } }>('POST', `/workflows/${workflow.id}/run`, {
			workflowId: workflow.id,
			startNodes: [],
			destinationNode: { nodeName: TRIGGER_NODE, mode: 'inclusive' },
		});
		if (run.status !== 200 || run.body?.data?.waitingForWebhook !== true) {
			throw new Error(`The manual run did not wait for a test event: ${run.status} ${JSON.stringify(run.body)}`);
		}
		return waitFor(`${subscriptions} test subscription(s) on the webhook-test URL`, () => {
			const found = this.sim.subscriptions().filter((s) => s.notificationUrl === workflow.testNotifyUrl);
			return found.length === subscriptions ? found : undefined;
		});
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
		await waitFor(
			'n8n to finish publishing the workflow',
			async () => {
				const status = await this.api.rest<{ data?: { status?: string }; status?: string }>('GET', `/workflows/${workflow.id}/publication-status`);
				return (status.body?.data?.status ?? status.body?.status) === 'published' ? true : undefined;
			},
			15_000,
			100,
		);
		return live;
	}

	async executions(workflow: TriggerWorkflow): Promise<N8nExecution[]> {
		return this.api.executions(workflow.id);
	}

	/** Waits until the workflow has `count` finished executions (and returns them all). */
	async waitForExecutions(workflow: TriggerWorkflow, count: number, timeoutMs = this.executionsTimeoutMs): Promise<N8nExecution[]> {
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

	/**
	 * Waits until every execution of the workflow has finished and at least `count` of them are runs (runsOf:
	 * the workflow went on past the trigger), and returns the runs, oldest first.
	 */
	async waitForRuns(workflow: TriggerWorkflow, count: number, timeoutMs = this.executionsTimeoutMs): Promise<N8nExecution[]> {
		return waitFor(
			`${count} run(s) (executions past the trigger) and every execution finished`,
			async () => {
				const all = await this.executions(workflow);
				const runs = runsOf(all);
				return runs.length >= count && all.every((e) => e.status !== 'running' && e.status !== 'new') ? runs : undefined;
			},
			timeoutMs,
			500,
		);
	}

	/** The workflow's runs so far (runsOf). */
	async runs(workflow: TriggerWorkflow): Promise<N8nExecution[]> {
		return runsOf(await this.executions(workflow));
	}

	/**
	 * Each execution ended at the trigger: started by a notification, it succeeded and the trigger emitted no
	 * item (a redelivery, an event the filters leave out, what execute() could not open or read), so the NoOp
	 * after it never ran.
	 */
	expectEndedAtTrigger(executions: N8nExecution[]): void {
		expect(executions.length).toBeGreaterThan(0);
		for (const execution of executions) {
			expect([execution.id, execution.mode, execution.status, this.itemsOf(execution)]).toEqual([execution.id, 'webhook', 'success', []]);
			expect([execution.id, Object.keys(execution.data?.resultData?.runData ?? {})]).toEqual([execution.id, [TRIGGER_NODE]]);
		}
	}

	/** The items a node (the trigger unless told) passed on in an execution. */
	itemsOf(execution: N8nExecution, nodeName = TRIGGER_NODE): Array<Record<string, unknown>> {
		return outputOf(execution, nodeName);
	}
}
