/**
 * One end-to-end environment: the Graph + login simulator in the jest process, a real n8n child
 * process (HTTPS, SQLite, the built package) that trusts the simulator's CA, an owner with an API key,
 * both credentials (Custom cloud pointing at the simulator, a freshly generated encryption
 * certificate), and helpers to create, activate and inspect trigger workflows.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { GraphSimulator, GraphSimulatorOptions } from '../simulator';
import { N8nApi } from './n8nApi';
import { ensureN8n, freePort, N8nProcess, REPO_ROOT, requireBuiltPackage } from './n8nProcess';
import {
	createTriggerCredentials,
	ENCRYPTION_KEY,
	NODE_TYPE,
	startTenantSimulator,
	TriggerEnvironment,
	writeCertificates,
	type EncryptionCertificate,
	type TriggerCredentials,
	type TriggerWorkflow,
} from './triggerEnvironment';

export { CLIENT_ID, TENANT, USERS } from '../support/simulatorTenant';
export { DEFAULT_APP_PERMISSIONS, generateEncryptionCertificate, NODE_TYPE, TRIGGER_NODE, waitFor, type EncryptionCertificate, type TriggerWorkflow } from './triggerEnvironment';

export interface E2eOptions {
	simulator?: GraphSimulatorOptions;
	/** The app's Graph application permissions (default DEFAULT_APP_PERMISSIONS). */
	appPermissions?: string[];
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

/** The type when n8n loads the package as an installed community package (`installedPackage`). */
export const INSTALLED_NODE_TYPE = 'n8n-nodes-teams-calls.microsoftTeamsCallTrigger';

/** <user folder>/.n8n/nodes/node_modules/n8n-nodes-teams-calls -> this repository (its dist/ and package.json). */
function installAsCommunityPackage(userFolder: string): void {
	const nodeModules = path.join(userFolder, '.n8n', 'nodes', 'node_modules');
	mkdirSync(nodeModules, { recursive: true });
	symlinkSync(REPO_ROOT, path.join(nodeModules, 'n8n-nodes-teams-calls'), 'dir');
}

export class E2eEnvironment extends TriggerEnvironment {
	private constructor(
		readonly sim: GraphSimulator,
		readonly n8n: N8nProcess,
		readonly api: N8nApi,
		readonly tmp: string,
		readonly certificate: EncryptionCertificate,
		readonly credentials: TriggerCredentials,
		private readonly keep: boolean,
		/** The app credential's secret, so tests can check it never shows up in logs or outputs. */
		readonly clientSecret: string,
		/** The trigger's node type as this n8n knows it. */
		readonly nodeType: string = NODE_TYPE,
	) {
		super();
	}

	static async start(options: E2eOptions = {}): Promise<E2eEnvironment> {
		const dist = requireBuiltPackage();
		const paths = ensureN8n();
		const tmp = mkdtempSync(path.join(os.tmpdir(), 'teams-calls-e2e-'));
		let sim: GraphSimulator | undefined;
		let n8n: N8nProcess | undefined;
		try {
			const tenant = await startTenantSimulator(options.simulator, options.appPermissions);
			sim = tenant.sim;
			const { tls, certificate } = writeCertificates(tmp);
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
				tls,
				customExtensions: dist,
				encryptionKey: ENCRYPTION_KEY,
				extraEnv,
			});
			await n8n.start();
			const api = new N8nApi(n8n.baseUrl, tls.caPem);
			await api.setUp();
			const credentials = await createTriggerCredentials(api, sim, tenant.clientSecret, certificate);
			const nodeType = options.installedPackage ? INSTALLED_NODE_TYPE : NODE_TYPE;
			return new E2eEnvironment(sim, n8n, api, tmp, certificate, credentials, options.keep ?? process.env.N8N_E2E_KEEP === '1', tenant.clientSecret, nodeType);
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

	async createTriggerWorkflow(
		name: string,
		parameters: Record<string, unknown>,
		typeVersion?: number,
		{ withoutCertificate = false }: { withoutCertificate?: boolean } = {},
	): Promise<TriggerWorkflow> {
		return this.createWorkflowWithTrigger(name, parameters, { typeVersion, withoutCertificate });
	}

	protected get publicUrl(): string {
		return this.n8n.baseUrl;
	}

	/** Expression isolates n8n has built so far: its debug log says "Runtime bundle loaded" for each. */
	isolatesBuilt(): number {
		return this.n8n.logs().split('Runtime bundle loaded').length - 1;
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
