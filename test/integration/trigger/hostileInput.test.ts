import { request } from 'node:https';

import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/** Only what the running test logged. */
const logsOfThisTest = logsOfEachTest();

const [adele] = USERS;
let fixture: TriggerFixture;
let sub: StoredSubscription;

beforeAll(async () => {
	fixture = await startTriggerFixture({ users: [adele.id] });
	await fixture.harness.activate();
	sub = fixture.sim.subscriptions()[0];
});
afterAll(async () => fixture.close());
beforeEach(() => {
	fixture.harness.executions.length = 0;
});
/** Only the lines logged during the current test. */

interface Answer {
	status: number;
	ms: number;
	text: string;
}

function post(path: string, body: string | Buffer, contentType = 'application/json'): Promise<Answer> {
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const req = request(`${fixture.harness.url('notify').replace(/\/notify$/, '')}/${path}`, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
			let text = '';
			res.on('data', (chunk) => (text += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text }));
		});
		// An answer that comes before the whole body was sent may reset the upload; the answer still counts.
		req.on('error', (error: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(error.code ?? '') ? undefined : reject(error)));
		req.end(body);
	});
}

/** Posts, waits for the node's work after its answer, and checks that nothing ran and nothing threw. */
async function expectNoRun(path: string, body: string | Buffer, contentType?: string): Promise<Answer> {
	const answer = await post(path, body, contentType);
	await fixture.harness.settled();
	expect(fixture.harness.runs).toHaveLength(0);
	expect(fixture.harness.executions.filter((execution) => execution.error)).toEqual([]);
	expect(logsOfThisTest().filter((line) => /^(webhook|execute)\(\) threw/.test(line.message))).toEqual([]);
	return answer;
}

const validItem = () => fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));

describe('what n8n answers before the node is called', () => {
	// Graph sees these answers; the node never runs for them (n8n 2.41.1's own body parsing, modelled in
	// test/support/n8nWebhookBody.ts).
	it('answers a JSON body that does not parse with n8n\'s 422', async () => {
		const answer = await expectNoRun('notify', '{"value": [');
		expect(answer.status).toBe(422);
		expect(JSON.parse(answer.text)).toMatchObject({ code: 422, message: 'Failed to parse request body' });
	});

	it('answers a body over N8N_PAYLOAD_SIZE_MAX (16 MiB) with n8n\'s 500', async () => {
		const answer = await expectNoRun('notify', Buffer.alloc(17 * 1024 * 1024, 0x20));
		expect(answer.status).toBe(500);
	});
});

describe('hostile input on the public notification URL', () => {
	it.each([
		['an empty body', '', 'The body is not a JSON object'],
		['JSON null', 'null', 'The body is not a JSON object'],
		['a string', '"value"', 'The body is not a JSON object'],
		['an array', '[{"value":[]}]', 'The body is not a JSON object'],
		['value of null', '{"value":null}', 'The body has no "value" array'],
		['JSON that is not Graph\'s shape', '{"hello":"world"}', 'The body has no "value" array'],
	])('answers %s with the node\'s 400', async (_, body, error) => {
		const answer = await expectNoRun('notify', body);
		expect(answer.status).toBe(400);
		expect(JSON.parse(answer.text)).toEqual({ error });
	});

	it('answers a batch in a body that n8n does not read (not JSON) with the node\'s 400', async () => {
		const answer = await expectNoRun('notify', JSON.stringify({ value: [validItem()] }), 'application/octet-stream');
		expect(answer.status).toBe(400);
		expect(JSON.parse(answer.text)).toEqual({ error: 'The body is not a JSON object' });
	});

	it('answers a forged batch just under n8n\'s size limit with the node\'s 401', async () => {
		const template = validItem();
		const filler = 'x'.repeat(15 * 1024 * 1024);
		const answer = await expectNoRun('notify', JSON.stringify({ value: [{ ...template, clientState: 'guess', filler }] }));
		expect(answer.status).toBe(401);
	});

	it('answers an item with the wrong clientState with exactly 401', async () => {
		const answer = await expectNoRun('notify', JSON.stringify({ value: [{ ...validItem(), clientState: 'guess' }] }));
		expect(answer.status).toBe(401);
		expect(JSON.parse(answer.text)).toEqual({ error: 'No notification in this request belongs to an active subscription of this trigger' });
	});

	it('answers 10,000 forged items fast with 401', async () => {
		const template = validItem();
		const forged = JSON.stringify({ value: Array.from({ length: 10_000 }, (_, index) => ({ resource: template.resource, tenantId: template.tenantId, subscriptionId: `forged-${index}`, clientState: `guess-${index}` })) });
		const answer = await expectNoRun('notify', forged);
		expect(answer.status).toBe(401);
		expect(answer.ms).toBeLessThan(2000);
	});

	it('answers 10,000 items with our clientState but garbage content with 202 at once, and runs nothing', async () => {
		const item = validItem();
		const garbage = JSON.stringify({
			value: Array.from({ length: 10_000 }, () => ({ ...item, encryptedContent: { ...item.encryptedContent, dataKey: 'AAAA', data: '!!!' } })),
			validationTokens: [fixture.sim.validationTokenFor(sub.applicationId, sub.tenantId)],
		});
		const answer = await expectNoRun('notify', garbage);
		expect(answer.status).toBe(202);
		expect(answer.ms).toBeLessThan(2000);
	});

	it('survives wrong types in every field', async () => {
		const item = validItem();
		const variants = [
			{ ...item, subscriptionId: 42 },
			{ ...item, clientState: { $ne: null } },
			{ ...item, clientState: [item.clientState] },
			{ ...item, encryptedContent: 'not an object' },
			{ ...item, encryptedContent: { ...item.encryptedContent, data: 12, dataKey: null, dataSignature: [] } },
			{ ...item, encryptedContent: { ...item.encryptedContent, encryptionCertificateId: { id: 1 } } },
			{ ...item, resource: ['users'], tenantId: 7, lifecycleEvent: 3 },
			{ ...item, lifecycleEvent: '__proto__' },
			{ ...item, clientState: undefined },
			'a string item',
			null,
			[item],
		];
		// Some variants carry our subscription and clientState, so the batch is accepted (202); its tokens
		// do not verify, so nothing is decrypted or run.
		expect((await expectNoRun('notify', JSON.stringify({ value: variants, validationTokens: [1, {}, 'x'] }))).status).toBe(202);
		expect((await expectNoRun('lifecycle', JSON.stringify({ value: variants }))).status).toBe(202);
		const ignored = logsOfThisTest().filter((line) => /could not be proven to come from Microsoft Graph/.test(line.message));
		expect(ignored).toHaveLength(2);
	});

	it('ignores an unknown lifecycle event and a proto-polluting key', async () => {
		const lifecycle = fixture.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired', { lifecycleEvent: 'constructor' });
		const answer = await expectNoRun('lifecycle', JSON.stringify({ value: [lifecycle, JSON.parse('{"__proto__":{"polluted":true}}')] }));
		expect(answer.status).toBe(202);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it('compares clientState safely whatever its length', async () => {
		const real = String(sub.clientState);
		for (const clientState of ['', 'x', real.slice(0, -1), real + 'x', 'y'.repeat(100_000)]) {
			expect((await expectNoRun('notify', JSON.stringify({ value: [{ ...validItem(), clientState }] }))).status).toBe(401);
		}
	});

	it('echoes a hostile validation token only as text/plain', async () => {
		const token = encodeURIComponent('<img src=x onerror=alert(1)>');
		const answer = await new Promise<{ type: string; body: string }>((resolve, reject) => {
			const req = request(`${fixture.harness.url('notify')}?validationToken=${token}`, { method: 'POST' }, (res) => {
				let body = '';
				res.on('data', (chunk) => (body += chunk));
				res.on('end', () => resolve({ type: String(res.headers['content-type']), body }));
			});
			req.on('error', reject);
			req.end();
		});
		expect(answer).toEqual({ type: 'text/plain; charset=utf-8', body: '<img src=x onerror=alert(1)>' });
	});
});

/** mulberry32: a tiny seeded generator, so a failing fuzz case can be replayed from its seed. */
function random(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function mutate(value: unknown, next: () => number, depth = 0): unknown {
	const roll = next();
	if (depth > 3 || roll < 0.15) {
		const replacements: unknown[] = [null, 0, -1, 1e308, '', 'x'.repeat(Math.floor(next() * 5000)), [], {}, true, '\u0000\uffff', 'AAAA====', { toString: 'x' }];
		return replacements[Math.floor(next() * replacements.length)];
	}
	if (typeof value === 'string') {
		const chars = value.split('');
		const at = Math.floor(next() * Math.max(chars.length, 1));
		chars[at] = String.fromCharCode(Math.floor(next() * 128));
		return chars.join('');
	}
	if (Array.isArray(value)) return value.map((entry) => (next() < 0.5 ? mutate(entry, next, depth + 1) : entry));
	if (value && typeof value === 'object') {
		const copy: Record<string, unknown> = {};
		for (const [key, entry] of Object.entries(value)) {
			if (next() < 0.1) continue;
			copy[next() < 0.05 ? `${key}_` : key] = next() < 0.4 ? mutate(entry, next, depth + 1) : entry;
		}
		return copy;
	}
	return value;
}

describe('seeded fuzzing of the webhook handler', () => {
	const SEED = 20261126;
	const MAX_CASES = 150;
	const TIME_BUDGET_MS = 20_000;

	it(`survives ${MAX_CASES} mutated batches (seed ${SEED}) and still works afterwards`, async () => {
		const next = random(SEED);
		const started = Date.now();
		const statuses = new Map<number, number>();
		const token = fixture.sim.validationTokenFor(sub.applicationId, sub.tenantId);
		for (let index = 0; index < MAX_CASES && Date.now() - started < TIME_BUDGET_MS; index++) {
			const batch = { value: [validItem(), fixture.sim.lifecycleNotificationFor(sub, 'missed')], validationTokens: [token] };
			const body = JSON.stringify(mutate(batch, next));
			const answer = await post(next() < 0.8 ? 'notify' : 'lifecycle', body ?? 'null');
			statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
			expect([202, 400, 401]).toContain(answer.status);
			expect(answer.ms).toBeLessThan(3000);
		}
		await fixture.harness.settled();
		expect(logsOfThisTest().filter((line) => line.message.startsWith('webhook() threw'))).toEqual([]);
		// Every execution the fuzzer caused holds only well-formed call events.
		for (const execution of fixture.harness.executions) {
			for (const item of execution.items) expect(['callStarted', 'callEnded', 'unknown']).toContain(item.json.event);
		}
		fixture.harness.executions.length = 0;
		await fixture.deliver([validItem()]);
		expect(fixture.harness.executions).toHaveLength(1);
	});
});
