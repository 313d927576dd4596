import { createRequire } from 'node:module';
import express, { type Request, type Response } from 'express';
import { createServer, type Server } from 'node:https';
import { ExecuteContext, HookContext, TriggerContext, WebhookContext } from 'n8n-core';
import {
	createRunExecutionData,
	resolveWebhookDescriptionField,
	Workflow,
	type ExecutionError,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type INode,
	type INodeParameters,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type ITriggerResponse,
	type IWebhookData,
	type IWebhookDescription,
	type IWorkflowExecuteAdditionalData,
	type WorkflowActivateMode,
} from 'n8n-workflow';

import { MicrosoftTeamsCallTrigger } from '../../nodes/MicrosoftTeamsCallTrigger/MicrosoftTeamsCallTrigger.node';
import { listenOnFreshPort } from '../simulator/freshPort';
import { readWebhookBody } from './n8nWebhookBody';
import { installProcessedDataStore, ProcessedDataStore } from './processedDataStore';
import { cachedServerCertificate } from '../simulator/testCa';

export interface LogLine {
	level: 'debug' | 'info' | 'warn' | 'error';
	message: string;
}

/** Every line n8n-core's Logger receives while a harness is installed; tests search it for leaks. */
export const capturedLogs: LogLine[] = [];

/**
 * For a test file: marks where each test's log lines start (a beforeEach) and returns a function that gives
 * only the running test's lines, so no assertion reads what an earlier test logged.
 */
export function logsOfEachTest(): () => LogLine[] {
	let start = 0;
	beforeEach(() => {
		start = capturedLogs.length;
	});
	return () => capturedLogs.slice(start);
}

// n8n-core carries its own copies of @n8n/di and @n8n/backend-common: the Logger its contexts use is
// the one registered in that container.
const requireFromCore = createRequire(require.resolve('n8n-core'));
const { Container } = requireFromCore('@n8n/di') as typeof import('@n8n/di');
const { Logger } = requireFromCore('@n8n/backend-common') as typeof import('@n8n/backend-common');

function installCapturingLogger(): void {
	const record = (level: LogLine['level']) => (message: string) => {
		capturedLogs.push({ level, message: String(message) });
	};
	const logger = {
		debug: record('debug'),
		info: record('info'),
		warn: record('warn'),
		error: record('error'),
		scoped() {
			return logger;
		},
	};
	Container.set(Logger, logger as unknown as InstanceType<typeof Logger>);
}

export interface HarnessOptions {
	parameters: IDataObject;
	appCredential: ICredentialDataDecryptedObject;
	certificateCredential: ICredentialDataDecryptedObject;
	workflowId?: string;
	webhookId?: string;
	/** Serve the webhooks over plain HTTP (to test the HTTPS requirement). */
	plainHttp?: boolean;
	/** A node saved without the certificate credential (the call-records source does not show it). */
	withoutCertificateCredential?: boolean;
	/** n8n's processed-data table, to share one database between harnesses (several n8n processes). */
	processedData?: ProcessedDataStore;
}

export interface RecordedExecution {
	mode: 'webhook' | 'manual';
	/** What the node output: execute()'s items, once the execution has run (see `settled()`). */
	items: INodeExecutionData[];
	/** What webhook() handed to the execution: its input. */
	admitted: INodeExecutionData[];
	/** Whether the notification had been answered before n8n started (queued) the execution. */
	answeredBeforeStart: boolean;
	/** The error execute() threw: n8n saves the execution as failed. */
	error?: Error;
}

const NODE_NAME = 'Teams Call Trigger';

/** n8n-workflow's ObservableObject flag: set by any write to the workflow's static data since it was made. */
function dataChanged(workflow: Workflow): boolean {
	return (workflow.staticData as IDataObject & { __dataChanged?: boolean }).__dataChanged === true;
}
const NODE_TYPE = 'CUSTOM.microsoftTeamsCallTrigger';

/**
 * A small stand-in for the parts of n8n around a trigger node, built from n8n-core's real
 * HookContext, WebhookContext and TriggerContext and a real HTTPS endpoint, and modelling what n8n
 * 2.41 does with static data (measured in shared/reference/n8n-hybrid-trigger.md):
 * - the "database" copy is saved after activation and deactivation;
 * - each webhook request works on a fresh copy loaded from the database. n8n saves it, when
 *   changed (`__dataChanged`), in its response callback (live-webhooks.js, saveStaticData), and
 *   webhook-helpers.js calls that callback before it starts an execution when webhook() started none or
 *   answered itself (`noWebhookResponse: true`), after it when n8n answers once the execution is
 *   stored. By then WorkflowRunner.run (establishContextForPersistence) has built a second Workflow on
 *   the same object, which clears `__dataChanged`: the change is lost;
 * - the execution works on a copy loaded from the database when it starts (prepareNewExecution; in
 *   queue mode the job carries that copy), saved at its end only if the execution changed it, and never
 *   in manual mode;
 * - the trigger (timer) works on the activation's in-memory copy, which is never saved.
 */
export class TriggerHarness {
	readonly nodeType: INodeType = new MicrosoftTeamsCallTrigger();
	readonly executions: RecordedExecution[] = [];
	readonly failures: ExecutionError[] = [];
	/** The errors the trigger passed to emitError (n8n then deactivates and re-activates the workflow); also in `failures`. */
	readonly emittedErrors: Error[] = [];
	/** The output of each execution the timer's emit() started (execute() run on what was emitted). */
	readonly emitted: INodeExecutionData[][][] = [];
	/** What the timer emitted: the input of those executions. */
	readonly emittedInput: INodeExecutionData[][][] = [];
	/** n8n's processed-data table: it outlives a process restart, as a database does. */
	readonly processedData: ProcessedDataStore;
	/** How often n8n was asked for each credential (each read costs n8n 2.41 an expression sandbox). */
	readonly credentialReads: Record<string, number> = {};
	/** The persisted static data, as JSON. */
	savedStaticData = '{}';
	baseUrl = '';
	node: INode;
	private server?: Server;
	private activeWorkflow?: Workflow;
	private ticks: Array<() => unknown> = [];
	private triggerResponse?: ITriggerResponse;
	private testMode = false;

	private constructor(private readonly options: HarnessOptions) {
		this.processedData = options.processedData ?? new ProcessedDataStore();
		this.node = {
			id: 'a1b2c3d4-0000-4000-8000-000000000001',
			name: NODE_NAME,
			type: NODE_TYPE,
			typeVersion: 2,
			position: [0, 0],
			webhookId: options.webhookId ?? '7b0c6a1e-2222-4c3b-8f00-000000000002',
			parameters: options.parameters as INodeParameters,
			credentials: {
				microsoftGraphAppApi: { id: 'cred-app', name: 'Graph app' },
				...(options.withoutCertificateCredential
					? {}
					: { microsoftGraphNotificationCertificateApi: { id: 'cred-cert', name: 'Encryption certificate' } }),
			},
		};
	}

	static async start(options: HarnessOptions): Promise<TriggerHarness> {
		installCapturingLogger();
		const harness = new TriggerHarness(options);
		await harness.listen();
		return harness;
	}

	/**
	 * The executions in which the workflow went on past the trigger: execute() output at least one item. An
	 * execution of a redelivery, or of an event the parameters leave out, ends at the trigger with none.
	 */
	get runs(): RecordedExecution[] {
		return this.executions.filter((execution) => execution.items.length > 0);
	}

	get workflowId(): string {
		return this.options.workflowId ?? 'wf-teams-calls-1';
	}

	get staticData(): IDataObject {
		return (JSON.parse(this.savedStaticData) as IDataObject)[`node:${NODE_NAME}`] as IDataObject ?? {};
	}

	/** Editing a credential: n8n hands the new data to every later call. */
	setCertificateCredential(data: ICredentialDataDecryptedObject): void {
		this.options.certificateCredential = data;
	}

	/** Editing the app credential in place (another app, tenant or cloud under the same credential). */
	setAppCredential(data: ICredentialDataDecryptedObject): void {
		this.options.appCredential = data;
	}

	setParameters(parameters: IDataObject): void {
		this.node = { ...this.node, parameters: parameters as INodeParameters };
	}

	url(kind: 'notify' | 'lifecycle', test = false): string {
		return `${this.baseUrl}/${test ? 'webhook-test' : 'webhook'}/${this.node.webhookId}/${kind}`;
	}

	/**
	 * What n8n does on activation: for each webhook in order, checkExists, then create if needed. When
	 * either throws, n8n clears the workflow's webhooks, which calls delete(), and reports the error.
	 */
	async activate(activation: WorkflowActivateMode = 'activate'): Promise<void> {
		// n8n hands the same Workflow object to the webhook setup and to trigger().
		const workflow = this.activeWorkflow ?? this.workflowFromDatabase();
		this.activeWorkflow = workflow;
		for (const webhook of this.webhooks(workflow, false)) {
			const methods = this.nodeType.webhookMethods?.[webhook.webhookDescription.name as 'default'];
			if (!methods) continue;
			const hook = new HookContext(workflow, this.node, this.additionalData(), 'trigger', activation, webhook);
			try {
				if (!(await methods.checkExists.call(hook))) await methods.create.call(hook);
			} catch (error) {
				const cleanup = new HookContext(workflow, this.node, this.additionalData(), 'internal', 'update', webhook);
				await methods.delete.call(cleanup);
				this.saveFrom(workflow);
				throw error;
			}
		}
		this.saveFrom(workflow);
	}

	/** n8n's test webhook ("listen for test event"): test URLs and test static data. */
	async activateTest(): Promise<Workflow> {
		const workflow = this.makeWorkflow({});
		this.testMode = true;
		this.testWorkflow = workflow;
		for (const webhook of this.webhooks(workflow, true)) {
			const methods = this.nodeType.webhookMethods?.[webhook.webhookDescription.name as 'default'];
			if (!methods) continue;
			const hook = new HookContext(workflow, this.node, this.additionalData(), 'manual', 'manual', webhook);
			try {
				if (!(await methods.checkExists.call(hook))) await methods.create.call(hook);
			} catch (error) {
				// n8n removes a test webhook whose creation failed, and shows the error in the editor.
				const cleanup = new HookContext(workflow, this.node, this.additionalData(), 'internal', 'update', webhook);
				await methods.delete.call(cleanup);
				this.testMode = false;
				this.testWorkflow = undefined;
				throw error;
			}
		}
		return workflow;
	}

	async deactivateTest(): Promise<void> {
		if (!this.testWorkflow) return;
		const webhook = this.webhooks(this.testWorkflow, true).find((w) => w.webhookDescription.name === 'default');
		if (webhook) {
			const hook = new HookContext(this.testWorkflow, this.node, this.additionalData(), 'internal', 'update', webhook);
			await this.nodeType.webhookMethods?.default?.delete.call(hook);
		}
		this.testMode = false;
		this.testWorkflow = undefined;
	}

	private testWorkflow?: Workflow;

	/**
	 * Deactivation in n8n's order: delete() first (n8n reports mode internal / activation update), then the
	 * timer's close. `beforeClose` runs in between, where a tick may still fire.
	 */
	async deactivate(beforeClose?: () => Promise<void>): Promise<void> {
		const workflow = this.workflowFromDatabase();
		const webhook = this.webhooks(workflow, false).find((w) => w.webhookDescription.name === 'default');
		if (webhook) {
			const hook = new HookContext(workflow, this.node, this.additionalData(), 'internal', 'update', webhook);
			await this.nodeType.webhookMethods?.default?.delete.call(hook);
		}
		this.saveFrom(workflow);
		await beforeClose?.();
		await this.triggerResponse?.closeFunction?.();
		this.triggerResponse = undefined;
		this.ticks = [];
		this.activeWorkflow = undefined;
	}

	/** Starts the trigger part on the activation's workflow, capturing registerCron's tick. */
	async startTrigger(activation: WorkflowActivateMode = 'activate'): Promise<void> {
		const workflow = this.activeWorkflow ?? this.workflowFromDatabase();
		this.activeWorkflow = workflow;
		const context = new TriggerContext(
			workflow,
			this.node,
			this.additionalData(),
			'trigger',
			activation,
			(data) => {
				this.emittedInput.push(data);
				this.track(
					this.runExecute(workflow, 'trigger', data[0] ?? []).then(
						(output) => void this.emitted.push([output]),
						(error: Error) => void this.failures.push(error as ExecutionError),
					),
				);
			},
			(error) => {
				this.emittedErrors.push(error);
				this.failures.push(error as ExecutionError);
			},
			(error) => this.failures.push(error),
			{ registerCron: (_cron, onTick) => this.ticks.push(onTick as () => unknown) },
		);
		this.triggerResponse = await this.nodeType.trigger!.call(context);
	}

	/** Fires the renewal timer once and waits for the work it started. */
	async tick(): Promise<void> {
		expect(this.ticks.length).toBeGreaterThan(0);
		await Promise.all(this.ticks.map((onTick) => onTick()));
	}

	/**
	 * The manual execution after the test webhook fired, as n8n-core's runNode does it: the items webhook()
	 * returned are the node's input, and execute() runs ahead of trigger() when the node has one; else
	 * trigger() is called in manual mode. `elsewhere` runs first, to model the execution running in
	 * another process (a queue-mode worker): it forgets what this process kept in memory.
	 */
	async runManualExecution(elsewhere?: () => void): Promise<INodeExecutionData[][]> {
		const workflow = this.makeWorkflow({});
		const input = [...this.executions].reverse().find((execution) => execution.mode === 'manual')?.admitted ?? [];
		elsewhere?.();
		if (this.nodeType.execute) return [await this.runExecute(workflow, 'manual', input)];
		let emitted: INodeExecutionData[][] = [];
		const context = new TriggerContext(workflow, this.node, this.additionalData(), 'manual', 'manual', (data) => {
			emitted = data;
		});
		const response = await this.nodeType.trigger!.call(context);
		await response?.manualTriggerFunction?.();
		await response?.closeFunction?.();
		return emitted;
	}

	/** A process restart: in-memory state is gone, the database copy remains. */
	simulateRestart(forget: () => void): void {
		forget();
		this.activeWorkflow = undefined;
		this.triggerResponse = undefined;
		this.ticks = [];
	}

	async close(): Promise<void> {
		await this.triggerResponse?.closeFunction?.();
		await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
	}

	/**
	 * n8n-core's runNode for this node in the execution that webhook() or emit() started: execute() runs first,
	 * with what was handed over as its input, and its first output is what the next node gets.
	 */
	private async runExecute(workflow: Workflow, mode: 'webhook' | 'manual' | 'trigger', input: INodeExecutionData[]): Promise<INodeExecutionData[]> {
		installProcessedDataStore(this.processedData);
		const context = new ExecuteContext(
			workflow,
			this.node,
			this.additionalData(),
			mode,
			createRunExecutionData(),
			0,
			input,
			{ main: [input] },
			{ node: this.node, data: { main: [input] }, source: null },
			[],
		);
		const output = (await this.nodeType.execute!.call(context)) as INodeExecutionData[][];
		return output[0] ?? [];
	}

	private makeWorkflow(staticData: IDataObject): Workflow {
		const nodeType = this.nodeType;
		const nodeTypes: INodeTypes = {
			getByName: () => nodeType,
			getByNameAndVersion: () => nodeType,
			getKnownTypes: () => ({}),
		};
		return new Workflow({
			id: this.workflowId,
			name: 'Teams calls',
			nodes: [this.node],
			connections: {},
			active: true,
			nodeTypes,
			staticData,
		});
	}

	private workflowFromDatabase(): Workflow {
		return this.makeWorkflow(JSON.parse(this.savedStaticData) as IDataObject);
	}

	private saveFrom(workflow: Workflow): void {
		this.savedStaticData = JSON.stringify(workflow.staticData);
	}

	private webhooks(workflow: Workflow, isTest: boolean): IWebhookData[] {
		return (this.nodeType.description.webhooks ?? []).map((webhookDescription) => ({
			httpMethod: 'POST',
			node: this.node.name,
			path: `${this.node.webhookId}/${String(webhookDescription.path)}`,
			webhookDescription,
			workflowId: workflow.id,
			workflowExecuteAdditionalData: this.additionalData(),
			webhookId: this.node.webhookId,
			isTest,
		}));
	}

	private additionalData(extra: Partial<IWorkflowExecuteAdditionalData> = {}): IWorkflowExecuteAdditionalData {
		// Looked up at each call, as n8n reads the stored credential each time.
		const credentials = (): Record<string, ICredentialDataDecryptedObject> => ({
			microsoftGraphAppApi: this.options.appCredential,
			microsoftGraphNotificationCertificateApi: this.options.certificateCredential,
		});
		const credentialsHelper = {
			getDecrypted: async (_additionalData: unknown, _nodeCredentials: unknown, type: string) => {
				this.credentialReads[type] = (this.credentialReads[type] ?? 0) + 1;
				const data = credentials()[type];
				if (!data) throw new Error(`No test credential of type ${type}`);
				return { ...data };
			},
			isCredentialUsableByNode: () => true,
			getCredentialsProperties: () => [],
			getParentTypes: () => [],
		};
		return {
			webhookBaseUrl: `${this.baseUrl}/webhook`,
			webhookTestBaseUrl: `${this.baseUrl}/webhook-test`,
			webhookWaitingBaseUrl: `${this.baseUrl}/webhook-waiting`,
			formWaitingBaseUrl: `${this.baseUrl}/form-waiting`,
			instanceBaseUrl: this.baseUrl,
			restApiUrl: `${this.baseUrl}/rest`,
			variables: {},
			credentialsHelper,
			...extra,
		} as unknown as IWorkflowExecuteAdditionalData;
	}

	private readonly inFlight = new Set<Promise<void>>();

	private track(work: Promise<void>): void {
		this.inFlight.add(work);
		void work.finally(() => this.inFlight.delete(work));
	}

	/** Waits for webhook calls still working after their answer went out (decryption, lifecycle work). */
	async settled(): Promise<void> {
		while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
	}

	private async handle(request: Request, response: Response, isTest: boolean): Promise<void> {
		const description = (this.nodeType.description.webhooks ?? []).find(
			(webhook) => webhook.path === request.params.path,
		);
		if (request.params.webhookId !== this.node.webhookId || !description || (isTest && !this.testMode)) {
			response.status(404).json({ message: 'The requested webhook is not registered' });
			return;
		}
		const body = await readWebhookBody(request, this.node.typeVersion);
		if (!body.ok) {
			response.status(body.status).json(body.body);
			return;
		}
		// Production requests load the workflow from the database; test requests use the test workflow.
		const workflow = isTest ? (this.testWorkflow ?? this.makeWorkflow({})) : this.workflowFromDatabase();
		const webhook = this.webhooks(workflow, isTest).find((w) => w.webhookDescription.name === description.name)!;
		const mode = isTest ? 'manual' : 'webhook';
		const context = new WebhookContext(
			workflow,
			this.node,
			this.additionalData({ httpRequest: request, httpResponse: response } as Partial<IWorkflowExecuteAdditionalData>),
			mode,
			webhook,
			[],
			null,
		);
		try {
			const result = await this.nodeType.webhook!.call(context);
			let execution: RecordedExecution | undefined;
			const savedBeforeStart = !result.workflowData || result.noWebhookResponse === true;
			if (!isTest && savedBeforeStart && dataChanged(workflow)) this.saveFrom(workflow);
			if (result.workflowData) {
				const admitted = result.workflowData[0] ?? [];
				execution = { mode, items: [], admitted, answeredBeforeStart: response.headersSent };
				this.executions.push(execution);
			}
			// n8n answers once the execution is stored, and runs it after: the answer never waits for execute().
			if (!result.noWebhookResponse && !response.headersSent) this.answerAsN8n(response, description, result.workflowData !== undefined);
			if (execution) {
				// Test executions run on the test workflow; production ones on a copy from the database.
				const executionWorkflow = isTest ? workflow : this.workflowFromDatabase();
				try {
					execution.items = await this.runExecute(executionWorkflow, mode, execution.admitted);
					if (!isTest && dataChanged(executionWorkflow)) this.saveFrom(executionWorkflow);
				} catch (error) {
					execution.error = error as Error;
					capturedLogs.push({ level: 'error', message: `execute() threw: ${(error as Error).message}` });
				}
			}
		} catch (error) {
			capturedLogs.push({ level: 'error', message: `webhook() threw: ${(error as Error).message}` });
			if (!response.headersSent) response.status(500).json({ message: 'Error in workflow' });
		}
	}

	/**
	 * n8n's answer for a node that did not answer itself (webhook-helpers executeWebhook, responseMode
	 * onReceived): the webhook's responseCode, and its responseData ("noData": no body), once the execution
	 * is started.
	 */
	private answerAsN8n(response: Response, description: IWebhookDescription, startedExecution: boolean): void {
		const code = resolveWebhookDescriptionField(this.node, description, 'responseCode');
		response.status(code.resolved && typeof code.value === 'number' ? code.value : 200);
		if (!startedExecution) response.json({ message: 'Webhook call received' });
		else if (description.responseData === 'noData') response.end();
		else response.json({ message: 'Workflow was started' });
	}

	private async listen(): Promise<void> {
		// No body parser: n8n reads a webhook's body itself, as readWebhookBody models.
		const app = express();
		app.post('/webhook/:webhookId/:path', (req, res) => this.track(this.handle(req, res, false)));
		app.post('/webhook-test/:webhookId/:path', (req, res) => this.track(this.handle(req, res, true)));
		const certificate = cachedServerCertificate(['localhost', '127.0.0.1']);
		const server = this.options.plainHttp
			? (await import('node:http')).createServer(app)
			: createServer({ cert: certificate.certPem, key: certificate.keyPem }, app);
		// A fresh port: the trigger keeps its live subscription state per notification URL.
		const port = await listenOnFreshPort(server);
		this.server = server as Server;
		this.baseUrl = `${this.options.plainHttp ? 'http' : 'https'}://localhost:${port}`;
	}
}
