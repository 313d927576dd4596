/**
 * n8n's REST API (owner setup, login cookie, API key, manual runs) and public API (credentials,
 * workflows, activation, executions), over HTTPS trusting the test CA.
 */
import { request } from 'node:https';

export interface ApiResponse<T = unknown> {
	status: number;
	body: T;
	text: string;
	headers: Record<string, string | string[] | undefined>;
}

/** The trigger node's name in every workflow the e2e files create. */
export const TRIGGER_NODE = 'Teams Call Trigger';

export const OWNER = {
	email: 'owner@example.com',
	firstName: 'E2E',
	lastName: 'Owner',
	password: 'Passw0rd!Passw0rd',
};

const API_KEY_SCOPES = [
	'credential:create',
	'credential:delete',
	'workflow:create',
	'workflow:read',
	'workflow:list',
	'workflow:update',
	'workflow:delete',
	'workflow:activate',
	'workflow:deactivate',
	'execution:list',
	'execution:read',
];

export interface N8nExecution {
	id: string;
	mode: string;
	status: string;
	finished: boolean;
	workflowId: string;
	startedAt: string;
	stoppedAt?: string;
	data?: {
		resultData?: {
			error?: { message?: string };
			runData?: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> } }>>;
		};
	};
}

export class N8nApi {
	private cookie = '';
	apiKey = '';

	constructor(
		public baseUrl: string,
		private readonly ca: string,
	) {}

	call<T = unknown>(
		method: string,
		path: string,
		body?: unknown,
		headers: Record<string, string> = {},
		timeoutMs = 30_000,
	): Promise<ApiResponse<T>> {
		const payload = body === undefined ? undefined : JSON.stringify(body);
		return new Promise((resolve, reject) => {
			const req = request(
				`${this.baseUrl}${path}`,
				{
					method,
					ca: this.ca,
					timeout: timeoutMs,
					headers: {
						accept: 'application/json',
						...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
						...headers,
					},
				},
				(res) => {
					let text = '';
					res.setEncoding('utf8');
					res.on('data', (chunk: string) => (text += chunk));
					res.on('end', () => {
						let parsed: unknown = text;
						try {
							parsed = text ? JSON.parse(text) : undefined;
						} catch {
							/* not JSON */
						}
						resolve({ status: res.statusCode ?? 0, body: parsed as T, text, headers: res.headers });
					});
				},
			);
			req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
			req.on('error', reject);
			req.end(payload);
		});
	}

	private async expectOk<T>(what: string, response: Promise<ApiResponse<T>>): Promise<T> {
		const r = await response;
		if (r.status < 200 || r.status >= 300) {
			throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
		}
		return r.body;
	}

	rest<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
		return this.call<T>(method, `/rest${path}`, body, this.cookie ? { cookie: this.cookie } : {});
	}

	public<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
		return this.call<T>(method, `/api/v1${path}`, body, { 'x-n8n-api-key': this.apiKey });
	}

	private rememberCookie(r: ApiResponse): void {
		const setCookie = r.headers['set-cookie'];
		const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
		const auth = list.map((c) => c.split(';')[0]).filter((c) => c.startsWith('n8n-auth='));
		if (auth.length) this.cookie = auth[auth.length - 1];
	}

	/** On a fresh instance: the owner, a login cookie, an API key. */
	async setUp(): Promise<void> {
		const setup = await this.call('POST', '/rest/owner/setup', OWNER);
		if (setup.status >= 300) {
			throw new Error(`owner setup: HTTP ${setup.status} ${setup.text.slice(0, 300)}`);
		}
		await this.login();
		const key = await this.expectOk<{ data: { rawApiKey: string } }>(
			'create API key',
			this.rest('POST', '/api-keys', { label: `e2e-${Date.now()}`, expiresAt: null, scopes: API_KEY_SCOPES }),
		);
		this.apiKey = key.data.rawApiKey;
	}

	async login(): Promise<void> {
		const r = await this.call('POST', '/rest/login', { emailOrLdapLoginId: OWNER.email, password: OWNER.password });
		if (r.status !== 200) throw new Error(`login: HTTP ${r.status} ${r.text.slice(0, 300)}`);
		this.rememberCookie(r);
	}

	async createCredential(name: string, type: string, data: Record<string, unknown>): Promise<{ id: string; name: string }> {
		const created = await this.expectOk<{ id: string; name: string }>(
			`create credential ${type}`,
			this.public('POST', '/credentials', { name, type, data }),
		);
		return { id: created.id, name: created.name };
	}

	async createWorkflow(workflow: Record<string, unknown>): Promise<{ id: string }> {
		return this.expectOk<{ id: string }>('create workflow', this.public('POST', '/workflows', workflow));
	}

	async activate(id: string): Promise<void> {
		await this.expectOk('activate workflow', this.public('POST', `/workflows/${id}/activate`));
	}

	async deactivate(id: string): Promise<void> {
		await this.expectOk('deactivate workflow', this.public('POST', `/workflows/${id}/deactivate`));
	}

	async workflow(id: string): Promise<Record<string, unknown>> {
		return this.expectOk('get workflow', this.public('GET', `/workflows/${id}`));
	}

	/** Every execution of the workflow, oldest first, with data. */
	async executions(workflowId: string): Promise<N8nExecution[]> {
		const all: N8nExecution[] = [];
		let cursor: string | undefined;
		do {
			const query = `workflowId=${workflowId}&includeData=true&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
			const page = await this.expectOk<{ data: N8nExecution[]; nextCursor?: string | null }>(
				'list executions',
				this.public('GET', `/executions?${query}`),
			);
			all.push(...page.data);
			cursor = page.nextCursor ?? undefined;
		} while (cursor);
		return all.sort((a, b) => Number(a.id) - Number(b.id));
	}

	/**
	 * IDs of the workflow's executions as n8n has stored them at this moment, queued and running ones included
	 * (the editor's list, `/rest/executions`; the public API leaves out those this process is running), newest
	 * first, at most `limit`. What "n8n answered only once the execution was stored" is checked against.
	 */
	async storedExecutionIds(workflowId: string, limit = 100): Promise<string[]> {
		const filter = encodeURIComponent(JSON.stringify({ workflowId }));
		const page = await this.expectOk<{ data: { results: Array<{ id: string }> } }>(
			'list stored executions',
			this.rest('GET', `/executions?filter=${filter}&limit=${limit}`),
		);
		// n8n lists running and finished executions in one answer from two queries; one that finishes between
		// them is in both.
		return [...new Set(page.data.results.map((execution) => String(execution.id)))];
	}

	async healthy(): Promise<boolean> {
		try {
			const r = await this.call('GET', '/healthz/readiness', undefined, {}, 3000);
			return r.status === 200;
		} catch {
			return false;
		}
	}
}

/** The items a node output in an execution (first run, first output). */
export function outputOf(execution: N8nExecution, nodeName: string): Array<Record<string, unknown>> {
	const runs = execution.data?.resultData?.runData?.[nodeName] ?? [];
	const main = runs[0]?.data?.main?.[0] ?? [];
	return main.map((item) => item.json);
}

/**
 * The executions in which the workflow went on past the trigger: the trigger node output at least one item
 * (the e2e workflows are trigger → NoOp, so these are the executions in which the NoOp ran). The trigger works
 * in two phases, so every notification webhook() admits makes an execution; that of a redelivery, of an
 * event the node's filters leave out, or of a notification execute() cannot open or whose call record Graph
 * does not have, ends at the trigger with no item. Count these for "the workflow ran", and executions for
 * "webhook() refused it" (401, 400, n8n's 422, 503).
 */
export function runsOf(executions: N8nExecution[], triggerNode = TRIGGER_NODE): N8nExecution[] {
	return executions.filter((execution) => outputOf(execution, triggerNode).length > 0);
}
