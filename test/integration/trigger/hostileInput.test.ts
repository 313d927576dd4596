import { request } from 'node:https';

import { deliveryOf, type AdmittedNotification } from '../../../lib/delivery/admittedDelivery';
import { normaliseDirection, normaliseEventType } from '../../../lib/notifications/callEvent';
import { normaliseMeetingEventType } from '../../../lib/meetings/meetingCallEvent';
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

/**
 * The slowest answer these tests accept. The node answers a batch in a few ms and the largest bodies here
 * take about 30 ms (most of it n8n's body parsing), median of runs on a 2-core machine; 300 ms leaves room
 * for a loaded CI machine and still fails when the answer starts to wait for decryption, Graph or the login
 * host (each at least a round trip, and 1,000 RSA unwraps about 200 ms).
 */
const ANSWER_BOUND_MS = 300;
/**
 * For a body of 10,000 items (about 6 MB) the upload and n8n's parse alone take 200–400 ms here, so that test
 * bounds what the node adds over the same body refused at once: admitting 1,000 sealed items costs a few ms;
 * opening them (1,000 RSA unwraps) would cost more than this.
 */
const ADMISSION_BOUND_MS = 150;

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

	it('answers 10,000 forged items with 401 without asking Graph or the login host', async () => {
		const template = validItem();
		const forged = JSON.stringify({ value: Array.from({ length: 10_000 }, (_, index) => ({ resource: template.resource, tenantId: template.tenantId, subscriptionId: `forged-${index}`, clientState: `guess-${index}` })) });
		const requestsBefore = fixture.sim.requests.length;
		const answer = await expectNoRun('notify', forged);
		expect(answer.status).toBe(401);
		expect(fixture.sim.requests.slice(requestsBefore)).toEqual([]);
		// About 30 ms here (n8n's parse of the 1.5 MB body included); hashing all 10,000 or calling out would
		// take several times that.
		expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
	});

	it('answers 10,000 items with our clientState but garbage content with 202 before decrypting any, and runs nothing', async () => {
		const item = validItem();
		const garbage = JSON.stringify({
			value: Array.from({ length: 10_000 }, () => ({ ...item, encryptedContent: { ...item.encryptedContent, dataKey: 'AAAA', data: '!!!' } })),
			validationTokens: [fixture.sim.validationTokenFor(sub.applicationId, sub.tenantId)],
		});
		// The floor: the same number and size of items under a wrong clientState, refused after n8n has read and
		// parsed the body as it must for the garbage; what the garbage costs beyond that is the node's admission.
		const floor = await expectNoRun('notify', garbage.replaceAll(`"clientState":${JSON.stringify(item.clientState)}`, `"clientState":${JSON.stringify('x'.repeat(String(item.clientState).length))}`));
		expect(floor.status).toBe(401);
		const requestsBefore = fixture.sim.requests.length;
		const answer = await expectNoRun('notify', garbage);
		expect(answer.status).toBe(202);
		// One execution holds the first 1,000, still sealed: nothing was opened before the answer.
		expect(fixture.harness.executions).toHaveLength(1);
		const [execution] = fixture.harness.executions;
		expect(execution.admitted).toHaveLength(1000);
		expect(JSON.stringify(execution.admitted[0])).toContain('"data":"!!!"');
		expect(logsOfThisTest().some((line) => line.message === 'Ignored 9000 notifications past the first 1000 of one request')).toBe(true);
		expect(fixture.sim.requests.slice(requestsBefore)).toEqual([]);
		expect(answer.ms - floor.ms).toBeLessThan(ADMISSION_BOUND_MS);
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

	it('ignores lifecycle events named after Object.prototype\'s keys: no Graph call, no state change', async () => {
		const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
		const savedBefore = fixture.harness.savedStaticData;
		const requestsBefore = fixture.sim.requests.length;
		const answer = await expectNoRun('notify', JSON.stringify({ value: names.map((lifecycleEvent) => fixture.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired', { lifecycleEvent })) }));
		expect(answer.status).toBe(202);
		// Only reauthorizationRequired and subscriptionRemoved make the node call Graph.
		expect(fixture.sim.requests.slice(requestsBefore)).toEqual([]);
		expect(fixture.harness.savedStaticData).toBe(savedBefore);
		const ignored = logsOfThisTest().filter((line) => line.message.startsWith('Ignoring unknown Microsoft Graph lifecycle event'));
		expect(ignored.map((line) => line.message)).toEqual(names.map((name) => `Ignoring unknown Microsoft Graph lifecycle event "${name}" for ${adele.id}`));
	});

	it('takes a "__proto__" key in a notification as data: no lifecycle event inherited, nothing polluted', async () => {
		// JSON.parse makes "__proto__" an own property; a copy by assignment would make it the prototype and
		// hand the item an inherited lifecycleEvent (a forged subscriptionRemoved) and its other keys.
		const item = JSON.stringify(validItem());
		const polluting = `{"__proto__":{"polluted":true,"lifecycleEvent":"subscriptionRemoved","changeType":"deleted"},${item.slice(1)}`;
		const requestsBefore = fixture.sim.requests.length;
		const answer = await post('notify', `{"value":[${polluting}],"validationTokens":${JSON.stringify([fixture.sim.validationTokenFor(sub.applicationId, sub.tenantId)])}}`);
		await fixture.harness.settled();
		expect(answer.status).toBe(202);
		expect(fixture.sim.requests.slice(requestsBefore).filter((request) => request.host === 'graph')).toEqual([]);
		expect(fixture.harness.runs).toHaveLength(1);
		const [run] = fixture.harness.runs;
		// What webhook() handed over keeps the key as data, and has no prototype but Object's.
		const admitted = deliveryOf(run.admitted[0].json) as AdmittedNotification;
		expect(Object.getPrototypeOf(admitted.notification)).toBe(Object.prototype);
		expect(Object.getOwnPropertyDescriptor(admitted.notification, '__proto__')?.value).toEqual({ polluted: true, lifecycleEvent: 'subscriptionRemoved', changeType: 'deleted' });
		expect(run.items.map((output) => [output.json.event, output.json.changeType])).toEqual([['callStarted', 'updated']]);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.getPrototypeOf(run.items[0].json)).toBe(Object.prototype);
	});

	it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('reads an event type or direction named "%s" as unknown', (name) => {
		for (const value of [name, `Microsoft.Communication.${name}`, `{${name}}`]) {
			expect([normaliseEventType(value), normaliseDirection(value), normaliseMeetingEventType(value)]).toEqual(['unknown', 'unknown', 'unknown']);
		}
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

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The one answer Graph must get for a body, from the contract rather than the node's code: a body that is
 * not an object with a value array is the node's 400; a batch in which no item carries our subscription's
 * clientState (matched by its subscriptionId, or for another subscription ID by an item about the watched
 * user or a lifecycle event) is 401; any other batch is 202, whether its validation tokens verify (then it
 * is admitted) or not (then it is ignored). Only the first 1,000 items count.
 */
function expectedAnswer(body: string): { status: number; body?: { error: string } } {
	const received: unknown = JSON.parse(body);
	if (!isObject(received)) return { status: 400, body: { error: 'The body is not a JSON object' } };
	if (!Array.isArray(received.value)) return { status: 400, body: { error: 'The body has no "value" array' } };
	const ours = received.value.slice(0, 1000).filter(isObject).some((item) => {
		if (typeof item.subscriptionId !== 'string' || item.clientState !== sub.clientState) return false;
		if (item.subscriptionId === sub.id) return true;
		return typeof item.lifecycleEvent === 'string' || (typeof item.resource === 'string' && item.resource.toLowerCase().includes(adele.id.toLowerCase()));
	});
	return { status: ours ? 202 : 401 };
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
		const requestsBefore = fixture.sim.requests.length;
		const times: number[] = [];
		for (let index = 0; index < MAX_CASES && Date.now() - started < TIME_BUDGET_MS; index++) {
			const batch = { value: [validItem(), fixture.sim.lifecycleNotificationFor(sub, 'missed')], validationTokens: [token] };
			const body = JSON.stringify(mutate(batch, next)) ?? 'null';
			const answer = await post(next() < 0.8 ? 'notify' : 'lifecycle', body);
			const expected = expectedAnswer(body);
			statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
			expect({ case: index, status: answer.status, body: answer.status === 400 ? JSON.parse(answer.text) : undefined }).toEqual({ case: index, ...expected });
			times.push(answer.ms);
		}
		await fixture.harness.settled();
		// Every answer above is one of the three, and each occurred.
		expect([...statuses.keys()].sort()).toEqual([202, 400, 401]);
		// Nothing the fuzzer sent may make the node call Graph (only a real reauthorizationRequired or
		// subscriptionRemoved does); a changed key ID in a token may make it look for rotated signing keys.
		expect(fixture.sim.requests.slice(requestsBefore).filter((request) => request.host === 'graph')).toEqual([]);
		times.sort((a, b) => a - b);
		expect(times[Math.floor(times.length / 2)]).toBeLessThan(50);
		expect(times[times.length - 1]).toBeLessThan(ANSWER_BOUND_MS);
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
