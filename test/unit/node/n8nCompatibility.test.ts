import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as n8nWorkflow from 'n8n-workflow';
import type { IWebhookDescription } from 'n8n-workflow';

/**
 * One build for n8n 2.41 and n8n 3.x (docs/n8n-compatibility.md): the package.json fields both loaders read,
 * and the deferred answer's fallback for an n8n-workflow without the webhook-description resolvers (a module
 * n8n marks as transitional).
 */
const packageJson = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
	n8n: { n8nNodesApiVersion: unknown; strict: unknown };
};

describe('n8nNodesApiVersion', () => {
	const declared = packageJson.n8n.n8nNodesApiVersion;

	it('is accepted by the n8n-workflow this package builds against (2.41)', () => {
		const { checkNodesApiVersion, N8N_NODES_API_VERSION } = n8nWorkflow as unknown as {
			checkNodesApiVersion: (pkg: unknown) => { compatible: boolean };
			N8N_NODES_API_VERSION: unknown;
		};
		expect(N8N_NODES_API_VERSION).toBe(1);
		expect(checkNodesApiVersion(packageJson)).toMatchObject({ compatible: true });
	});

	it('is the integer 1: 2.41 loads integers up to 1 only, 3.x reads an integer N as level N.0 and loads up to 3.0', () => {
		// A string such as "3.0" is malformed for 2.41, and 3 is above its level: either would stop 2.41 loading it.
		expect(declared).toBe(1);
	});
});

describe('the deferred answer (responseCode 202, no body)', () => {
	afterEach(() => jest.resetModules());

	// A fresh copy of the module after jest.doMock: the answer is computed when the module loads.
	const load = () =>
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		(require('../../../lib/trigger/deferredAnswer') as typeof import('../../../lib/trigger/deferredAnswer')).DEFERRED_ANSWER;

	it('declares a native resolver where n8n-workflow has them, so no expression runs per request', () => {
		const answer = load() as IWebhookDescription;
		expect(answer.responseData).toBe('noData');
		const resolved = n8nWorkflow.resolveWebhookDescriptionField({ parameters: {} }, answer, 'responseCode');
		expect(resolved).toEqual({ resolved: true, value: 202 });
	});

	it('falls back to a plain template where n8n-workflow has no resolvers', () => {
		jest.doMock('n8n-workflow', () => {
			const actual = jest.requireActual<Record<string, unknown>>('n8n-workflow');
			return { ...actual, webhookDescriptionFields: undefined, fromFunction: undefined };
		});
		const answer = load();
		expect(answer).toEqual({ responseCode: '={{202}}', responseData: 'noData' });
		expect(n8nWorkflow.WEBHOOK_RESOLVERS in answer).toBe(false);
	});
});
