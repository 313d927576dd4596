/**
 * The Call Records source (issue 12) in one real n8n whose Graph grants one-minute subscriptions: a
 * workflow watching two users, without the certificate credential (call-record notifications are basic),
 * and one watching the whole tenant. Activation, call records → executions, renewal over several
 * lifetimes, lifecycle events, a restart after every subscription expired, hostile input, deactivation.
 * The tests run in order on the same two workflows.
 */
import type { StoredCallRecord, StoredSubscription } from '../simulator';
import { graphDateTime } from '../simulator/ids';
import { E2eEnvironment, TENANT, USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import type { N8nExecution } from './n8nApi';
import { sleep } from './n8nProcess';
import { expectRenewedBeforeExpiry, renewalsOf, sampleLiveness, subscriptionCreates } from './renewalWatch';

const LIFETIME_MS = 60_000;
/** The renewal scenario watches this many lifetimes (N8N_E2E_LIFETIMES overrides). */
const LIFETIMES = Number(process.env.N8N_E2E_LIFETIMES ?? 3);
/** How long after /healthz/readiness a restarted n8n may take to have every subscription back. */
const RESTART_BOUND_MS = 30_000;
/** The node keeps asking Graph for a notified record this long (its option), so a forged ID is dropped soon. */
const WAIT_FOR_RECORD_SECONDS = 10;
const JOIN_URL = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_e2e%40thread.v2/0';
/** The trigger's first sweep for missed records comes this long after its timer starts (then every 15 minutes). */
const FIRST_SWEEP_DELAY_MS = 60_000;

const [adele, bianca, cyril] = USERS;
let env: E2eEnvironment;
/** Watches Adele (by principal name) and Bianca (by ID); has no certificate credential. */
let watched: TriggerWorkflow;
/** Watches every call of the tenant. */
let tenant: TriggerWorkflow;
/** Watches Adele with Call Record Updated; active from scenario 8 on, after the other two are deactivated. */
let updates: TriggerWorkflow;
const timings: string[] = [];
/** Scenario 4 sets up what 4b expects of the first sweep after the restart. */
let sweepCase: { ranBefore: StoredCallRecord; missed: StoredCallRecord; readyAt: number } | undefined;

const recordOptions = { lifetimeMinutes: 1, waitForRecordSeconds: WAIT_FOR_RECORD_SECONDS };

beforeAll(async () => {
	env = await E2eEnvironment.start({
		simulator: { callRecordsMaxSubscriptionLifetimeMinutes: 1, minSubscriptionLifetimeMinutes: 0 },
		appPermissions: ['CallRecords.Read.All', 'User.Read.All'],
	});
	watched = await env.createTriggerWorkflow(
		'Call records of Adele and Bianca',
		{ source: 'callRecords', recordUsers: [adele.userPrincipalName, bianca.id], recordEvents: ['callEnded'], recordOptions },
		undefined,
		{ withoutCertificate: true },
	);
	tenant = await env.createTriggerWorkflow('Call records of the tenant', {
		source: 'callRecords',
		recordUsers: [],
		recordEvents: ['callEnded'],
		recordOptions,
	});
	updates = await env.createTriggerWorkflow('Call records of Adele, with updates', {
		source: 'callRecords',
		recordUsers: [adele.id],
		recordEvents: ['callEnded', 'callRecordUpdated'],
		recordOptions,
	});
});

afterAll(async () => {
	if (timings.length) process.stderr.write(`callRecords e2e timings:\n  ${timings.join('\n  ')}\n`);
	if (env) {
		saveLogs('callRecords', env.n8n.logs());
		await env.close();
	}
});

const WORKFLOWS = () => [watched, tenant];
const creates = () => subscriptionCreates(env.sim);
const patchesOf = (id: string, since = 0) => renewalsOf(env.sim, id, since);
const readsOf = (recordId: string) => env.sim.findRequests({ method: 'GET', path: new RegExp(`/communications/callRecords/${recordId}$`) });
const onlyLiveOf = (workflow: TriggerWorkflow): StoredSubscription => {
	const live = env.live(workflow);
	if (live.length !== 1) throw new Error(`${workflow.id} has ${live.length} live subscriptions`);
	return live[0];
};
const executionCount = async (workflow: TriggerWorkflow) => (await env.executions(workflow)).length;
/** Runs: executions in which the workflow went on past the trigger (a record was emitted). */
const runCount = async (workflow: TriggerWorkflow) => (await env.runs(workflow)).length;
/** Executions a notification started (a sweep's are mode "trigger"). */
const notificationExecutions = async (workflow: TriggerWorkflow) => (await env.executions(workflow)).filter((e) => e.mode === 'webhook');

/** n8n answered the notification only once its execution was stored: the IDs stored now less `before`. */
async function storedSince(workflow: TriggerWorkflow, before: Set<string>): Promise<string[]> {
	return (await env.api.storedExecutionIds(workflow.id)).filter((id) => !before.has(id));
}


async function timed<T>(label: string, body: () => Promise<T>): Promise<T> {
	const start = Date.now();
	try {
		return await body();
	} finally {
		timings.push(`${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
	}
}

/** Exactly one live subscription for the workflow, and n8n done publishing it (it saves the clientStates then). */
async function waitForOneSubscription(workflow: TriggerWorkflow, timeoutMs = 30_000): Promise<StoredSubscription> {
	const live = await waitFor('one live call-records subscription', () => (env.live(workflow).length === 1 ? env.live(workflow)[0] : undefined), timeoutMs);
	await waitFor(
		'n8n to finish publishing the workflow',
		async () => {
			const status = await env.api.rest<{ data?: { status?: string }; status?: string }>('GET', `/workflows/${workflow.id}/publication-status`);
			return (status.body?.data?.status ?? status.body?.status) === 'published' ? true : undefined;
		},
		15_000,
		100,
	);
	return live;
}

function callOf(participants = [adele, bianca, cyril], extra: Parameters<typeof env.sim.addCallRecord>[0] = {}): StoredCallRecord {
	return env.sim.addCallRecord({ type: 'groupCall', modalities: ['audio', 'video'], organizer: participants[0], participants, joinWebUrl: JOIN_URL, ...extra });
}

/** A call that ended 12 minutes ago and that Graph last changed 11 minutes ago: old enough for a sweep to hand it on. */
function callEndedLongAgo(): StoredCallRecord {
	const now = Date.now();
	return callOf([adele, bianca], { endDateTime: graphDateTime(now - 12 * 60_000), lastModifiedDateTime: graphDateTime(now - 11 * 60_000) });
}

/** The item the trigger makes of a record read from Graph, field by field. */
function expectedItem(record: StoredCallRecord, subscription: StoredSubscription): Record<string, unknown> {
	const identity = (user: (typeof USERS)[number], userPrincipalName: string | null) => ({
		id: user.id,
		displayName: user.displayName,
		kind: 'user',
		tenantId: TENANT,
		userPrincipalName,
	});
	return {
		event: 'callEnded',
		source: 'callRecords',
		callId: record.id,
		startDateTime: record.startDateTime,
		endDateTime: record.endDateTime,
		participants: record.participants.map((user) => identity(user, user.userPrincipalName)),
		receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
		subscriptionId: subscription.id,
		tenantId: TENANT,
		type: record.type,
		modalities: record.modalities,
		duration: Math.round((Date.parse(record.endDateTime) - Date.parse(record.startDateTime)) / 1000),
		// organizer_v2 carries no principal name.
		organizer: identity(record.organizer as (typeof USERS)[number], null),
		joinWebUrl: JOIN_URL,
		version: 1,
		changeType: 'created',
		detectedBy: 'notification',
		data: expect.objectContaining({ id: record.id, version: 1, type: record.type, joinWebUrl: JOIN_URL, startDateTime: record.startDateTime }),
	};
}

/** A call record notified to each workflow's live subscription runs the workflow exactly once more, with that record. */
async function expectRecordsFlow(): Promise<void> {
	for (const workflow of WORKFLOWS()) {
		const before = await runCount(workflow);
		const sub = onlyLiveOf(workflow);
		const record = callOf([bianca, adele]);
		const [result] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, record.id)]);
		expect(result.status).toBe(202);
		const runs = await env.waitForRuns(workflow, before + 1);
		expect(runs).toHaveLength(before + 1);
		expect(env.itemsOf(runs[before])).toEqual([expectedItem(record, sub)]);
	}
}

/** No new execution of either workflow within a quiet period. */
async function expectNoNewExecutions(before: number[], quietMs = 3000): Promise<void> {
	await sleep(quietMs);
	expect(await Promise.all(WORKFLOWS().map(executionCount))).toEqual(before);
}

/** No new run of either workflow within a quiet period. */
async function expectNoNewRuns(before: number[], quietMs = 3000): Promise<void> {
	await sleep(quietMs);
	expect(await Promise.all(WORKFLOWS().map(runCount))).toEqual(before);
}

describe('real n8n: the Call Records source', () => {
	it('1. activate: one basic call-records subscription per workflow, filtered to the watched users or the whole tenant, no certificate', async () => {
		await timed('1 activate', async () => {
			// The watched-users workflow has only the app credential: the source needs no certificate.
			const saved = (await env.api.workflow(watched.id)) as { nodes: Array<{ credentials?: Record<string, unknown> }> };
			expect(Object.keys(saved.nodes.find((n) => n.credentials)?.credentials ?? {})).toEqual(['microsoftGraphAppApi']);

			await env.api.activate(watched.id);
			await env.api.activate(tenant.id);
			const users = await waitForOneSubscription(watched);
			const whole = await waitForOneSubscription(tenant);
			// Nothing more arrives afterwards (no duplicate from a race or a retry).
			await sleep(5000);
			expect(env.live(watched)).toHaveLength(1);
			expect(env.live(tenant)).toHaveLength(1);
			expect(creates()).toBe(2);

			const basic = { changeType: 'created', includeResourceData: false, encryptionCertificate: null, encryptionCertificateId: null, tenantId: TENANT };
			expect(users).toMatchObject({
				...basic,
				resource: `communications/callRecords?$filter=participants/any(p:p/id in ('${adele.id}','${bianca.id}'))`,
				notificationUrl: watched.notifyUrl,
				lifecycleNotificationUrl: watched.notifyUrl,
			});
			expect(whole).toMatchObject({ ...basic, resource: 'communications/callRecords', notificationUrl: tenant.notifyUrl, lifecycleNotificationUrl: tenant.notifyUrl });
			for (const sub of [users, whole]) {
				expect(sub.clientState).toMatch(/^[A-Za-z0-9_-]{64}$/);
				// The one-minute lifetime the option asks for (and this Graph allows at most).
				const left = Date.parse(sub.expirationDateTime) - Date.now();
				expect(left).toBeGreaterThan(30_000);
				expect(left).toBeLessThanOrEqual(LIFETIME_MS);
			}
			expect(users.clientState).not.toBe(whole.clientState);
			// Graph validated each subscription's notification URL (the lifecycle URL is the same one).
			for (const workflow of WORKFLOWS()) {
				expect(env.sim.handshakes.filter((h) => h.url.startsWith(workflow.notifyUrl) && h.outcome === 'ok').length).toBeGreaterThanOrEqual(1);
			}
			expect(env.sim.handshakes.filter((h) => h.outcome !== 'ok')).toEqual([]);
			expect(await Promise.all(WORKFLOWS().map(executionCount))).toEqual([0, 0]);
		});
	});

	it('2a. a call record notified to each workflow: exactly one execution each, stored before the 202, the record read from Graph', async () => {
		await timed('2a event -> execution', async () => {
			for (const workflow of WORKFLOWS()) {
				const sub = onlyLiveOf(workflow);
				const record = callOf();
				const sentAt = Date.now();
				const [result] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, record.id)]);
				expect(result.status).toBe(202);
				expect(result.attempts[0].withinAckWindow).toBe(true);
				// n8n answers once it has stored the execution (the record is read in it): it is there the moment the 202 is.
				expect(await storedSince(workflow, new Set())).toHaveLength(1);
				const executions = await env.waitForRuns(workflow, 1);
				expect(await env.executions(workflow)).toHaveLength(1);
				timings.push(`2a ${workflow === watched ? 'users' : 'tenant'}: execution finished ${Date.now() - sentAt} ms after the notification`);
				expect(executions).toHaveLength(1);
				expect(executions[0]).toMatchObject({ mode: 'webhook', status: 'success' });
				expect(env.itemsOf(executions[0])).toEqual([expectedItem(record, sub)]);
				// The NoOp after the trigger got the item.
				expect(env.itemsOf(executions[0], 'NoOp')).toHaveLength(1);
				// One read with our own token, expanding the participants.
				expect(readsOf(record.id).map((r) => [r.status, r.query.$expand])).toEqual([[200, 'participants_v2']]);
			}
		});
	});

	it('2b. a record Graph cannot return for its first seconds still arrives, once; the 202 does not wait for it', async () => {
		await timed('2b record readable after 4 s', async () => {
			const before = await executionCount(watched);
			const stored = new Set(await env.api.storedExecutionIds(watched.id));
			const sub = onlyLiveOf(watched);
			const record = callOf([adele], { notReadableForMs: 4000 });
			const sentAt = Date.now();
			const [result] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, record.id)]);
			expect(result.status).toBe(202);
			const [attempt] = result.attempts;
			const answeredAt = attempt.time + attempt.responseTimeMs;
			// Answered within Graph's window, before the record could be read: the execution was stored
			// (it is listed now) and reads the record after the 202.
			expect(attempt.withinAckWindow).toBe(true);
			const storedAtAnswer = await storedSince(watched, stored);
			expect(storedAtAnswer).toHaveLength(1);
			const executions = await env.waitForExecutions(watched, before + 1);
			timings.push(`2b: answered ${Math.round(attempt.responseTimeMs)} ms, execution finished ${Date.now() - sentAt} ms after the notification`);
			expect(executions).toHaveLength(before + 1);
			expect(executions[before].id).toBe(storedAtAnswer[0]);
			expect(env.itemsOf(executions[before])).toEqual([expectedItem(record, sub)]);
			expect(Date.parse(executions[before].stoppedAt!)).toBeGreaterThan(answeredAt);
			// The read that found the record came after the answer.
			expect(readsOf(record.id).find((r) => r.status === 200)!.time).toBeGreaterThan(answeredAt);
			const statuses = readsOf(record.id).map((r) => r.status);
			expect(statuses[0]).toBe(404);
			expect(statuses.filter((s) => s === 200)).toHaveLength(1);
			expect(statuses[statuses.length - 1]).toBe(200);
		});
	});

	it('2c. Graph delivers the same notification again: an execution each time, ending at the trigger; nothing more runs, nothing is read again', async () => {
		await timed('2c redelivery', async () => {
			const before = await Promise.all(WORKFLOWS().map(executionCount));
			const runsBefore = await Promise.all(WORKFLOWS().map(runCount));
			const sub = onlyLiveOf(watched);
			const record = callOf([bianca]);
			const notification = env.sim.callRecordNotificationFor(sub, record.id);
			const [first] = await env.sim.sendBatch([notification]);
			expect(first.status).toBe(202);
			const runs = await env.waitForRuns(watched, runsBefore[0] + 1);
			expect(env.itemsOf(runs[runsBefore[0]]).map((i) => i.callId)).toEqual([record.id]);
			for (let again = 0; again < 2; again++) {
				const [result] = await env.sim.sendBatch([notification]);
				expect(result.status).toBe(202);
			}
			await env.waitForExecutions(watched, before[0] + 3);
			await expectNoNewExecutions([before[0] + 3, before[1]]);
			expect(await Promise.all(WORKFLOWS().map(runCount))).toEqual([runsBefore[0] + 1, runsBefore[1]]);
			env.expectEndedAtTrigger((await env.executions(watched)).slice(before[0] + 1));
			expect(readsOf(record.id)).toHaveLength(1);
		});
	});

	it(`3. renewal without traffic: alive for ${LIFETIMES} lifetimes, renewed by PATCH before expiry, no gap, no new subscription`, async () => {
		await timed(`3 renewal over ${LIFETIMES} lifetimes`, async () => {
			const initial = WORKFLOWS().map(onlyLiveOf);
			const createsBefore = creates();
			const sampler = sampleLiveness(() => WORKFLOWS().map((workflow) => [workflow.id, env.live(workflow).length]));
			await sleep(LIFETIMES * LIFETIME_MS + 5_000);
			const { samples, gaps, duplicates } = sampler.stop();

			expect(samples).toBeGreaterThan(LIFETIMES * 200);
			expect(gaps).toEqual([]);
			expect(duplicates).toEqual([]);
			expect(creates()).toBe(createsBefore);
			const renewals: string[] = [];
			for (const [index, sub] of initial.entries()) {
				// The same subscription, renewed again and again: never a moment past its expiry.
				expect(onlyLiveOf(WORKFLOWS()[index]).id).toBe(sub.id);
				const patches = expectRenewedBeforeExpiry(env.sim, sub.id, LIFETIME_MS, LIFETIMES * LIFETIME_MS + 5_000);
				const intervals = patches.slice(1).map((p, i) => p.time - patches[i].time);
				expect(Math.max(...intervals)).toBeLessThan(45_000);
				renewals.push(`${patches.length} renewals, at most ${Math.round(Math.max(...intervals) / 1000)} s apart`);
			}
			timings.push(`3: ${samples} samples, ${renewals.join('; ')}`);
			await expectRecordsFlow();
		});
	});

	it('5a. lifecycle reauthorizationRequired: a PATCH follows at once, nothing runs', async () => {
		await timed('5a reauthorizationRequired', async () => {
			const sub = onlyLiveOf(watched);
			const before = await Promise.all(WORKFLOWS().map(executionCount));
			// Send right after a timer renewal, so the next timer renewal is at least 30 s away.
			const lastPatch = patchesOf(sub.id).length;
			await waitFor('a timer renewal', () => patchesOf(sub.id).length > lastPatch, 50_000, 100);
			const sentAt = Date.now();
			const [result] = await env.sim.sendBatch([env.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired')]);
			expect(result.status).toBe(202);
			expect(result.url).toBe(watched.notifyUrl);
			const patch = await waitFor('a PATCH after reauthorizationRequired', () => patchesOf(sub.id, sentAt)[0], 10_000, 100);
			expect(patch.status).toBe(200);
			expect(patch.time - sentAt).toBeLessThan(5_000);
			timings.push(`5a: PATCH ${patch.time - sentAt} ms after the lifecycle notification`);
			expect(env.live(watched).map((s) => s.id)).toEqual([sub.id]);
			await expectNoNewExecutions(before, 1000);
		});
	});

	it('5b. lifecycle subscriptionRemoved: recreated at once with the same filter, no duplicate, records flow', async () => {
		await timed('5b subscriptionRemoved', async () => {
			const sub = onlyLiveOf(watched);
			const createsBefore = creates();
			env.sim.removeSubscription(sub.id);
			const sentAt = Date.now();
			const [result] = await env.sim.sendBatch([env.sim.lifecycleNotificationFor(sub, 'subscriptionRemoved')]);
			expect(result.status).toBe(202);
			const restored = await waitFor('a new subscription after subscriptionRemoved', () => env.live(watched)[0], 15_000, 100);
			timings.push(`5b: recreated ${Date.now() - sentAt} ms after the lifecycle notification`);
			expect(restored.id).not.toBe(sub.id);
			expect(restored).toMatchObject({ resource: sub.resource, changeType: 'created', includeResourceData: false, encryptionCertificate: null });
			await sleep(2_000);
			expect(env.live(watched)).toHaveLength(1);
			expect(creates()).toBe(createsBefore + 1);
			await expectRecordsFlow();
		});
	});

	it(`4. restart after every subscription expired: recreated within ${RESTART_BOUND_MS / 1000} s of readiness, no duplicate, records flow`, async () => {
		await timed('4 restart after downtime', async () => {
			const old = WORKFLOWS().map((workflow) => onlyLiveOf(workflow));
			// For 4b: a record both workflows ran (notified) before the restart, old enough for a sweep to list it.
			const ranBefore = callEndedLongAgo();
			for (const [index, workflow] of WORKFLOWS().entries()) {
				const before = await runCount(workflow);
				const [result] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(old[index], ranBefore.id)]);
				expect(result.status).toBe(202);
				const runs = await env.waitForRuns(workflow, before + 1);
				expect(env.itemsOf(runs[before]).map((i) => [i.callId, i.detectedBy])).toEqual([[ranBefore.id, 'notification']]);
			}
			const createsBefore = creates();
			let missed: StoredCallRecord | undefined;
			// Down longer than the lifetime: every subscription of both workflows expired meanwhile.
			await env.restart(() => {
				for (const sub of old) env.sim.expireSubscription(sub.id);
				expect(WORKFLOWS().flatMap((workflow) => env.live(workflow))).toHaveLength(0);
				// For 4b: a call of both watched users whose record Graph has, but whose notification never comes.
				missed = callEndedLongAgo();
			});
			const readyAt = env.n8n.readyAt;
			sweepCase = { ranBefore, missed: missed!, readyAt };
			const recreated = [];
			for (const workflow of WORKFLOWS()) recreated.push(await waitForOneSubscription(workflow, Math.max(1000, RESTART_BOUND_MS - (Date.now() - readyAt))));
			timings.push(`4: subscriptions back ${Date.now() - readyAt} ms after readiness`);
			recreated.forEach((sub, index) => {
				expect(sub.id).not.toBe(old[index].id);
				expect(sub.resource).toBe(old[index].resource);
			});
			await sleep(5_000);
			expect(env.live(watched)).toHaveLength(1);
			expect(env.live(tenant)).toHaveLength(1);
			expect(creates()).toBe(createsBefore + 2);
			await expectRecordsFlow();
		});
	});

	it('4b. the first sweep after the restart, a minute after the timer starts: a record never notified runs once in each workflow, one that ran before the restart does not run again', async () => {
		await timed('4b sweep after restart', async () => {
			const { ranBefore, missed, readyAt } = sweepCase!;
			const callIdsOf = (runs: N8nExecution[]) => runs.flatMap((e) => env.itemsOf(e).map((i) => String(i.callId)));
			// Executions a sweep starts are the trigger's own (mode "trigger"), not a webhook's.
			const swept = await waitFor(
				'the sweep to run the missed record in both workflows',
				async () => {
					const found = await Promise.all(WORKFLOWS().map(async (workflow) => (await env.runs(workflow)).filter((e) => e.mode === 'trigger')));
					return found.every((runs) => callIdsOf(runs).includes(missed.id)) ? found : undefined;
				},
				Math.max(5_000, readyAt + FIRST_SWEEP_DELAY_MS + 60_000 - Date.now()),
				1000,
			);
			await sleep(3_000);
			const lists = env.sim.findRequests({ method: 'GET', path: /\/communications\/callRecords$/ }).filter((r) => r.time >= readyAt);
			expect(lists.length).toBeGreaterThan(0);
			const firstListAfter = lists[0].time - readyAt;
			timings.push(`4b: first sweep listed ${firstListAfter} ms after readiness`);
			// Not before the first sweep is due (the timer may start a little before n8n reports readiness).
			expect(firstListAfter).toBeGreaterThan(FIRST_SWEEP_DELAY_MS - 15_000);
			// The watched users each by participant (participants_v2), the whole tenant by start time.
			const filters = lists.map((r) => String(r.query.$filter));
			for (const user of [adele, bianca]) expect(filters).toContain(`participants_v2/any(p:p/id eq '${user.id}')`);
			expect(filters.some((f) => f.startsWith('startDateTime ge '))).toBe(true);

			for (const [index, workflow] of WORKFLOWS().entries()) {
				const runs = await env.runs(workflow);
				const items = swept[index].flatMap((e) => env.itemsOf(e));
				expect(items.filter((i) => i.callId === missed.id)).toEqual([
					{ ...expectedItem(missed, onlyLiveOf(workflow)), subscriptionId: null, changeType: null, detectedBy: 'sweep' },
				]);
				// Once each in all the workflow's runs: the missed record by the sweep, the other by its notification.
				expect(callIdsOf(runs).filter((id) => id === missed.id)).toHaveLength(1);
				expect(callIdsOf(runs).filter((id) => id === ranBefore.id)).toHaveLength(1);
				// A sweep hands on only records that had not run in the workflow.
				const sweptAt = Math.min(...swept[index].map((e) => Date.parse(e.startedAt)));
				const ranEarlier = new Set(callIdsOf(runs.filter((e) => Date.parse(e.startedAt) < sweptAt)));
				expect(items.filter((i) => ranEarlier.has(String(i.callId)))).toEqual([]);
			}
			// The record that ran before the restart was handed on again and read (this process had no memory of
			// it): n8n's store dropped it.
			expect(readsOf(ranBefore.id).filter((r) => r.time >= readyAt).length).toBeGreaterThanOrEqual(1);
			expect(env.n8n.logs()).toMatch(/Recovered 1 call record\(s\) whose notification never came/);
		});
	});

	it('7. hostile input: a record ID Graph never serves (a failed execution), a wrong clientState, a tampered notification and a malformed body run nothing', async () => {
		await timed('7 hostile input', async () => {
			const runsBefore = await Promise.all(WORKFLOWS().map(runCount));
			const notifiedBefore = (await notificationExecutions(watched)).length;
			const tenantBefore = (await notificationExecutions(tenant)).length;
			const sub = onlyLiveOf(watched);

			// The right clientState (only Graph and n8n know it), naming a record Graph never serves: answered 2xx as
			// Graph needs, read for the whole wait, and reported as a failed execution that names it.
			const forged = 'deadbeef-0000-4000-8000-00000000e2e0';
			const [forgedAnswer] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, forged)]);
			expect(forgedAnswer.status).toBe(202);

			// A wrong clientState for a record Graph does have: refused, and the record is not read.
			const real = callOf([adele]);
			const [wrongState] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, real.id, 'created', { clientState: 'x'.repeat(64) })]);
			expect(wrongState.status).toBe(401);
			expect(JSON.parse(wrongState.attempts[0].bodyText)).toEqual({ error: 'No notification in this request belongs to an active subscription of this trigger' });

			// The right clientState, but the notification names one record in its resource and another in resourceData.
			const other = callOf([adele]);
			const [tampered] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, real.id, 'created', { resourceData: { id: other.id } })]);
			expect(tampered.status).toBe(202);

			// Not JSON at all: n8n's own body parser refuses it before the node.
			const malformed = await env.sim.deliver(watched.notifyUrl, '{"value": [{"subscriptionId": ');
			expect(malformed.status).toBe(422);
			expect(malformed.attempts[0].bodyText).toContain('Failed to parse request body');
			// JSON without Graph's shape: the node's clear 400.
			const shapeless = await env.sim.deliver(watched.notifyUrl, { hello: 'world' });
			expect(shapeless.status).toBe(400);
			expect(JSON.parse(shapeless.attempts[0].bodyText)).toEqual({ error: 'The body has no "value" array' });

			const failed = await waitFor(
				'the failed execution of the record Graph never serves',
				async () => (await notificationExecutions(watched)).slice(notifiedBefore).find((e) => e.status === 'error'),
				(WAIT_FOR_RECORD_SECONDS + 15) * 1000,
				250,
			);
			expect(failed.data?.resultData?.error?.message).toBe(
				`Could not read call record ${forged} from Microsoft Graph: Microsoft Graph announced this call record (the notification carried the subscription's secret clientState) but answered 404 for all of Wait for New Records (${WAIT_FOR_RECORD_SECONDS} s). Graph can take longer to make a record readable: raise Wait for New Records.`,
			);
			expect(env.n8n.logs()).toMatch(/Dropped 1 call-record notification\(s\) that name no call record/);
			// Graph was asked for the forged record (and said 404), never for the refused or tampered ones.
			const forgedReads = readsOf(forged);
			expect(forgedReads.length).toBeGreaterThan(1);
			expect(forgedReads.every((r) => r.status === 404)).toBe(true);
			expect(readsOf(real.id)).toHaveLength(0);
			expect(readsOf(other.id)).toHaveLength(0);
			await expectNoNewRuns(runsBefore);
			// The unserved and the tampered notification passed webhook() (the right clientState) and each made an
			// execution: the first failed at the trigger, the second emitted nothing; the wrong clientState, the
			// unparsable and the shapeless body made none.
			const notified = (await notificationExecutions(watched)).slice(notifiedBefore);
			expect(notified.map((e) => [e.id === failed.id, e.status])).toEqual([
				[true, 'error'],
				[false, 'success'],
			]);
			env.expectEndedAtTrigger(notified.filter((e) => e.id !== failed.id));
			expect(await notificationExecutions(tenant)).toHaveLength(tenantBefore);
			expect(await env.api.healthy()).toBe(true);

			// Nothing secret in n8n's log.
			const log = env.n8n.logs();
			for (const s of env.sim.subscriptions({ includeInactive: true })) if (s.clientState) expect(log).not.toContain(s.clientState);
			expect(log).not.toContain(env.clientSecret);
			expect(log).not.toContain('PRIVATE KEY');
			expect(log).not.toContain(env.certificate.privateKeyPem.split('\n')[1]);

			// Genuine traffic still flows.
			await expectRecordsFlow();
		});
	});

	it('6. deactivate: every subscription deleted in the simulator, a late notification runs nothing', async () => {
		await timed('6 deactivate', async () => {
			const subs = WORKFLOWS().map(onlyLiveOf);
			const before = await Promise.all(WORKFLOWS().map(executionCount));
			for (const workflow of WORKFLOWS()) await env.api.deactivate(workflow.id);
			await waitFor('all subscriptions deleted', () => env.sim.subscriptions().length === 0, 30_000);
			for (const sub of subs) {
				expect(env.sim.getSubscription(sub.id)?.state).toBe('deleted');
				expect(env.sim.countRequests({ method: 'DELETE', path: new RegExp(`/subscriptions/${sub.id}$`) })).toBe(1);
			}
			// The production URL is gone: n8n answers 404 and nothing is read or run.
			const record = callOf([adele]);
			for (const sub of subs) {
				const [late] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(sub, record.id)]);
				expect(late.status).toBe(404);
			}
			await expectNoNewExecutions(before, 2000);
			expect(readsOf(record.id)).toHaveLength(0);

			const log = env.n8n.logs();
			expect(log).not.toContain(env.clientSecret);
			for (const s of env.sim.subscriptions({ includeInactive: true })) if (s.clientState) expect(log).not.toContain(s.clientState);
			expect(JSON.stringify(await Promise.all(WORKFLOWS().map((w) => env.executions(w))))).not.toContain(env.clientSecret);
		});
	});
});

describe('real n8n: what a restart forgets and what n8n\'s database remembers (Call Record Updated, an unreadable record, 6,000 records)', () => {
	const runsOfUpdates = () => env.runs(updates);
	const itemsIn = (runs: N8nExecution[]) => runs.flatMap((e) => env.itemsOf(e));

	it('8. across a restart: a later version is callRecordUpdated; a record Graph could not return until after the restart runs once, found by the first sweep', async () => {
		await timed('8 restart with a pending and an updated record', async () => {
			await env.api.activate(updates.id);
			const before = await waitForOneSubscription(updates);
			expect(before.changeType).toBe('created,updated');

			// Version 1 of a record runs as callEnded.
			const revised = callEndedLongAgo();
			const [first] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(before, revised.id)]);
			expect(first.status).toBe(202);
			let runs = await env.waitForRuns(updates, 1);
			expect(itemsIn(runs).map((i) => [i.callId, i.event, i.version])).toEqual([[revised.id, 'callEnded', 1]]);

			// A record Graph cannot return for 45 s, notified just before n8n stops: the execution asks for it for its
			// 10 s (the option) during n8n's shutdown, then fails naming it; after the restart the sweep lists it.
			const pending = callOf([adele], {
				endDateTime: graphDateTime(Date.now() - 12 * 60_000),
				lastModifiedDateTime: graphDateTime(Date.now() - 11 * 60_000),
				notReadableForMs: 45_000,
			});
			const [notified] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(before, pending.id)]);
			expect(notified.status).toBe(202);
			await waitFor('the execution to ask Graph for the pending record', () => readsOf(pending.id).length > 0, 10_000, 50);
			await env.restart(() => {
				expect(readsOf(pending.id).every((r) => r.status === 404)).toBe(true);
				// Graph revises the first record while n8n is down.
				env.sim.updateCallRecord(revised.id, { modalities: ['audio', 'video', 'screenSharing'] });
			});
			const readyAt = env.n8n.readyAt;
			const after = await waitForOneSubscription(updates, RESTART_BOUND_MS);
			// n8n's store, not the (restarted) process, says version 1 already ran: version 2 is an update.
			const [update] = await env.sim.sendBatch([env.sim.callRecordNotificationFor(after, revised.id, 'updated')]);
			expect(update.status).toBe(202);
			const runsBefore = runs.length;
			runs = await env.waitForRuns(updates, runsBefore + 1);
			expect(itemsIn(runs.slice(runsBefore)).map((i) => [i.callId, i.event, i.version, i.changeType])).toEqual([[revised.id, 'callRecordUpdated', 2, 'updated']]);

			// The pending record, once readable, by the first sweep after the restart (a minute after the timer starts).
			runs = await waitFor(
				'the sweep to run the record that was pending during the restart',
				async () => {
					const found = await runsOfUpdates();
					return itemsIn(found).some((i) => i.callId === pending.id) ? found : undefined;
				},
				Math.max(5_000, readyAt + FIRST_SWEEP_DELAY_MS + 60_000 - Date.now()),
				1000,
			);
			await sleep(3_000);
			runs = await runsOfUpdates();
			const items = itemsIn(runs);
			timings.push(`8: the pending record ran ${Math.round((Date.parse(runs.find((e) => env.itemsOf(e).some((i) => i.callId === pending.id))!.startedAt) - readyAt) / 1000)} s after readiness`);
			expect(items.filter((i) => i.callId === pending.id).map((i) => [i.event, i.detectedBy])).toEqual([['callEnded', 'sweep']]);
			// Each version of the revised record once, whatever the sweep listed.
			expect(items.filter((i) => i.callId === revised.id).map((i) => [i.event, i.version])).toEqual([
				['callEnded', 1],
				['callRecordUpdated', 2],
			]);
			// The sweep also hands on Adele's older records from the scenarios above, which never ran in this workflow:
			// each once.
			const others = items.filter((i) => i.callId !== pending.id && i.callId !== revised.id);
			expect(others.every((i) => i.detectedBy === 'sweep' && i.event === 'callEnded')).toBe(true);
			expect(new Set(others.map((i) => i.callId)).size).toBe(others.length);
			await env.api.deactivate(updates.id);
			await waitFor('the subscription deleted', () => env.live(updates).length === 0, 30_000);
		});
	});

	it('9. 6,000 distinct records through one trigger, then their notifications again: each runs once', async () => {
		await timed('9 6,000 records twice', async () => {
			// The whole-tenant workflow again (its sweep's executions are mode "trigger" and not counted here).
			await env.api.activate(tenant.id);
			const sub = await waitForOneSubscription(tenant);
			const notifiedRuns = async () => (await env.runs(tenant)).filter((e) => e.mode === 'webhook');
			const runsBefore = (await notifiedRuns()).length;
			const executionsBefore = (await notificationExecutions(tenant)).length;
			const records = Array.from({ length: 6000 }, () => callOf([adele, bianca]));
			const notifications = records.map((record) => env.sim.callRecordNotificationFor(sub, record.id));
			const deliverAll = async () => {
				// Graph's batches: at most 1,000 notifications a POST.
				for (let start = 0; start < notifications.length; start += 1000) {
					const [result] = await env.sim.sendBatch(notifications.slice(start, start + 1000));
					expect(result.status).toBe(202);
				}
			};
			const startedAt = Date.now();
			await deliverAll();
			await waitFor('6 runs', async () => ((await notifiedRuns()).length >= runsBefore + 6 ? true : undefined), 240_000, 1000);
			const runs = (await notifiedRuns()).slice(runsBefore);
			timings.push(`9: 6,000 records ran in ${runs.length} executions within ${Math.round((Date.now() - startedAt) / 1000)} s`);
			const ids = itemsIn(runs).map((i) => String(i.callId));
			expect(ids).toHaveLength(6000);
			expect(new Set(ids).size).toBe(6000);

			await deliverAll();
			await waitFor('6 more executions', async () => ((await notificationExecutions(tenant)).length >= executionsBefore + 12 ? true : undefined), 120_000, 1000);
			await sleep(3_000);
			const executions = await notificationExecutions(tenant);
			expect(executions).toHaveLength(executionsBefore + 12);
			env.expectEndedAtTrigger(executions.slice(executionsBefore + 6));
			expect(await notifiedRuns()).toHaveLength(runsBefore + 6);
			const reads = env.sim.findRequests({ method: 'GET', path: /\/communications\/callRecords\/[^/]+$/ }).filter((r) => r.time >= startedAt);
			timings.push(`9: ${reads.length} reads, ${reads.filter((r) => r.status !== 200).length} not 200`);
			expect(reads.filter((r) => r.status !== 200)).toEqual([]);

			await env.api.deactivate(tenant.id);
			await waitFor('the subscription deleted', () => env.live(tenant).length === 0, 30_000);
		});
	}, 420_000);
});
