/**
 * Issue 12, the Meeting Call Events (Beta) source in one real n8n whose app has OnlineMeetings.Read.All and
 * the Teams application access policy, with one-minute subscriptions: activation, events in both of
 * Graph's payload spellings, hostile input, renewal without traffic, lifecycle events, a restart after the
 * subscriptions expired, deactivation, and the activation errors that name what to fix. The tests run in
 * order on one workflow watching two meetings.
 */
import { X509Certificate } from 'node:crypto';

import type { StoredSubscription } from '../simulator';
import { CLIENT_ID, E2eEnvironment, TENANT, USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import { runsOf } from './n8nApi';
import { sleep } from './n8nProcess';
import { expectRenewedBeforeExpiry, renewalsOf, sampleLiveness, subscriptionCreates } from './renewalWatch';

const LIFETIME_MS = 60_000;
/** Scenario 3 watches this many lifetimes (N8N_E2E_MEETING_LIFETIMES overrides). */
const LIFETIMES = Number(process.env.N8N_E2E_MEETING_LIFETIMES ?? 3);
/** How long after /healthz/readiness a restarted n8n may take to have every subscription back. */
const RESTART_BOUND_MS = 30_000;

const [adele, bianca, cyril] = USERS;
const STANDUP = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzM4YmJhZDQtY2E1Mi00%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%2c%22Oid%22%3a%22o%22%7d';
const REVIEW = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_OTk5ZWI2YjMtOWI1Zi00%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
/** Watched by a second workflow that asks for roster updates (Graph allows one subscription per app and meeting). */
const ALL_HANDS = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_YWxsLWhhbmRzLTAx%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
/** Activated only while the app has no application access policy. */
const RETRO = 'https://teams.microsoft.com/meet/29384756102938';
const MEETINGS = [STANDUP, REVIEW];
/** The resource the trigger subscribes to for a meeting (Graph's keyed form, the join URL escaped once more). */
const resourceOf = (joinUrl: string) => `communications/onlineMeetings(joinWebUrl='${encodeURIComponent(joinUrl)}')/meetingCallEvents`;

let env: E2eEnvironment;
let workflow: TriggerWorkflow;
/** Every clientState the trigger has used, to check none reaches n8n's log. */
const clientStates = new Set<string>();

beforeAll(async () => {
	env = await E2eEnvironment.start({
		// Graph grants a meeting subscription the lifetime asked for, up to 4,230 minutes (the simulator's
		// maxSubscriptionLifetimeMinutes does not apply to it); the node asks for one minute (its lifetime
		// option below), and no 45-minute floor raises it.
		simulator: { minSubscriptionLifetimeMinutes: 0 },
		appPermissions: ['OnlineMeetings.Read.All'],
	});
	env.sim.addMeeting(STANDUP, adele.id);
	env.sim.addMeeting(REVIEW, bianca.id);
	env.sim.addMeeting(ALL_HANDS, cyril.id);
	env.sim.addMeeting(RETRO, adele.id);
	env.sim.grantMeetingAccessPolicy(CLIENT_ID);
	workflow = await env.createTriggerWorkflow('Meeting call events e2e', {
		source: 'meetingCallEvents',
		meetingJoinUrls: MEETINGS,
		meetingOptions: { lifetimeMinutes: 1 },
	});
});

afterAll(async () => {
	if (env) {
		saveLogs('meetingCallEvents', env.n8n.logs());
		await env.close();
	}
});

let testStartedAt = 0;
beforeEach(() => {
	testStartedAt = Date.now();
});
afterEach(() => {
	process.stderr.write(`timing: "${expect.getState().currentTestName}" took ${Math.round((Date.now() - testStartedAt) / 1000)} s\n`);
});

const creates = () => subscriptionCreates(env.sim);
const patchesOf = (id: string, since = 0) => renewalsOf(env.sim, id, since);
const liveOf = (joinUrl: string) => env.live(workflow, resourceOf(joinUrl));
const onlyLiveOf = (joinUrl: string): StoredSubscription => {
	const live = liveOf(joinUrl);
	if (live.length !== 1) throw new Error(`${joinUrl} has ${live.length} live subscriptions`);
	return live[0];
};
const waitForMeetingSubscriptions = async (target: TriggerWorkflow, joinUrls: string[], timeoutMs?: number) => {
	const live = await env.waitForSubscriptions(target, joinUrls.map(resourceOf), timeoutMs);
	for (const s of live) if (s.clientState) clientStates.add(s.clientState);
	return live;
};

/** Nothing secret has reached n8n's log: the client secret, the private key, any clientState. */
function expectNoSecretInLog(): void {
	const log = env.n8n.logs();
	expect(log).not.toContain('PRIVATE KEY');
	expect(log).not.toContain(env.certificate.privateKeyPem.split('\n')[1]);
	expect(log).not.toContain(env.clientSecret);
	expect(clientStates.size).toBeGreaterThan(0);
	for (const clientState of clientStates) expect(log).not.toContain(clientState);
}

/** No new execution of the workflow appears within a quiet period. */
async function expectNoNewExecution(target: TriggerWorkflow, before: number, quietMs = 3000): Promise<void> {
	await sleep(quietMs);
	expect(await env.executions(target)).toHaveLength(before);
}


/** One callStarted through Graph's side to each meeting's live subscription runs the workflow exactly once each. */
async function expectEventsFlow(): Promise<void> {
	const before = (await env.runs(workflow)).length;
	for (const joinUrl of MEETINGS) {
		const sub = onlyLiveOf(joinUrl);
		const [result] = await env.sim.sendBatch([env.sim.meetingNotificationFor(sub, env.sim.buildMeetingCallEvent({ kind: 'callStarted' }))]);
		expect(result.status).toBe(202);
	}
	const runs = await env.waitForRuns(workflow, before + MEETINGS.length);
	expect(runs).toHaveLength(before + MEETINGS.length);
	const items = runs.slice(before).flatMap((e) => env.itemsOf(e));
	expect(items.map((item) => [item.event, item.joinWebUrl]).sort()).toEqual(MEETINGS.map((url) => ['callStarted', url]).sort());
}

/**
 * Activates a workflow whose trigger must refuse, and returns the error n8n shows for it. n8n 2.41 accepts
 * the activation (200) and publishes in the background; the trigger's error is in the workflow's
 * publication status, which is what the editor shows ("could not be published").
 */
async function activationRefused(target: TriggerWorkflow): Promise<string> {
	const answer = await env.api.public('POST', `/workflows/${target.id}/activate`);
	expect(answer.status).toBe(200);
	type Status = { status?: string; triggers?: Array<{ status?: string; errorMessage?: string | null }> };
	const settled = await waitFor(
		'the publication to settle',
		async () => {
			const r = await env.api.rest<{ data?: Status }>('GET', `/workflows/${target.id}/publication-status`);
			const status = r.body?.data;
			return status?.status && status.status !== 'in_progress' ? status : undefined;
		},
		30_000,
		200,
	);
	expect(settled.status).toBe('failed');
	expect(settled.triggers).toHaveLength(1);
	expect(settled.triggers![0].status).toBe('failed');
	return settled.triggers![0].errorMessage ?? '';
}

describe('real n8n: Meeting Call Events (Beta)', () => {
	it('1. activate: one rich subscription per meeting on beta, change type updated, a clientState each', async () => {
		await env.api.activate(workflow.id);
		const live = await waitForMeetingSubscriptions(workflow, MEETINGS);
		// Nothing more arrives afterwards (no duplicate from a retry or the trigger/webhook race).
		await sleep(3000);
		expect(env.live(workflow)).toHaveLength(2);
		expect(env.sim.findRequests({ method: 'POST', path: /\/subscriptions$/ }).map((r) => [r.path, r.status])).toEqual([
			['/beta/subscriptions', 201],
			['/beta/subscriptions', 201],
		]);

		const der = new X509Certificate(env.certificate.certificatePem).raw.toString('base64');
		for (const joinUrl of MEETINGS) {
			const subscription = onlyLiveOf(joinUrl);
			expect(subscription).toMatchObject({
				resource: resourceOf(joinUrl),
				changeType: 'updated',
				notificationUrl: workflow.notifyUrl,
				lifecycleNotificationUrl: workflow.notifyUrl,
				includeResourceData: true,
				encryptionCertificate: der,
				encryptionCertificateId: env.certificate.certificateId,
				tenantId: TENANT,
			});
			expect(subscription.clientState).toMatch(/^[A-Za-z0-9_-]{64}$/);
			// The node's one-minute lifetime option, as Graph granted it.
			const lifetime = Date.parse(subscription.expirationDateTime) - Date.now();
			expect(lifetime).toBeGreaterThan(40_000);
			expect(lifetime).toBeLessThanOrEqual(LIFETIME_MS);
		}
		expect(new Set(live.map((s) => s.clientState)).size).toBe(2);
		expect(env.sim.handshakes.filter((h) => h.url.startsWith(workflow.notifyUrl) && h.outcome === 'ok')).toHaveLength(4);
		expect(env.sim.handshakes.filter((h) => h.outcome !== 'ok')).toEqual([]);
		expect(await env.executions(workflow)).toHaveLength(0);
	});

	it('2a. callStarted and callEnded in both spellings: one execution per notification, with the item fields', async () => {
		const sent: Array<{ joinUrl: string; sub: StoredSubscription; kind: 'callStarted' | 'callEnded'; at: string; event: Record<string, unknown> }> = [];
		const cases = [
			{ joinUrl: STANDUP, kind: 'callStarted', spelling: 'current', at: '2026-12-01T09:00:00.000Z' },
			{ joinUrl: STANDUP, kind: 'callEnded', spelling: 'current', at: '2026-12-01T09:31:15.000Z' },
			{ joinUrl: REVIEW, kind: 'callStarted', spelling: 'earlier', at: '2026-12-01T10:00:00.000Z' },
			{ joinUrl: REVIEW, kind: 'callEnded', spelling: 'earlier', at: '2026-12-01T10:45:00.000Z' },
		] as const;
		for (const { joinUrl, kind, spelling, at } of cases) {
			const sub = onlyLiveOf(joinUrl);
			const event = env.sim.buildMeetingCallEvent({ kind, spelling, eventDateTime: at });
			expect(event.eventType).toBe(spelling === 'current' ? kind : `Microsoft.Communication.${kind === 'callStarted' ? 'CallStarted' : 'CallEnded'}`);
			const [result] = await env.sim.sendBatch([env.sim.meetingNotificationFor(sub, event)]);
			expect(result.status).toBe(202);
			sent.push({ joinUrl, sub, kind, at, event });
			// One POST, one run: wait for it before the next POST so the order is known.
			await env.waitForRuns(workflow, sent.length);
		}
		const executions = await env.waitForRuns(workflow, sent.length);
		expect(executions).toHaveLength(4);
		// Each event is one execution, and each went on past the trigger.
		expect(await env.executions(workflow)).toHaveLength(4);
		executions.forEach((execution, index) => {
			const { joinUrl, sub, kind, at, event } = sent[index];
			expect(execution).toMatchObject({ mode: 'webhook', status: 'success' });
			expect(env.itemsOf(execution)).toEqual([
				{
					event: kind,
					source: 'meetingCallEvents',
					callId: null,
					joinWebUrl: joinUrl,
					startDateTime: kind === 'callStarted' ? at : null,
					endDateTime: kind === 'callEnded' ? at : null,
					participants: null,
					eventDateTime: at,
					receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
					subscriptionId: sub.id,
					tenantId: TENANT,
					changeType: 'updated',
					data: event,
				},
			]);
			expect(execution.data?.resultData?.runData?.NoOp).toBeDefined();
		});
	});

	it('2b. roster updates run a workflow only when its Events option asks for them, with who joined and who left', async () => {
		const before = (await env.executions(workflow)).length;
		const runsBefore = (await env.runs(workflow)).length;
		// The main workflow keeps the default events (started, ended): a roster update runs nothing (its
		// execution, which opens it, ends at the trigger).
		const standup = onlyLiveOf(STANDUP);
		const unasked = env.sim.buildMeetingCallEvent({ kind: 'rosterUpdated', joined: [adele] }, TENANT);
		const [ignored] = await env.sim.sendBatch([env.sim.meetingNotificationFor(standup, unasked)]);
		expect(ignored.status).toBe(202);

		const roster = await env.createTriggerWorkflow('Meeting call events e2e (roster)', {
			source: 'meetingCallEvents',
			meetingJoinUrls: [ALL_HANDS],
			meetingEvents: ['callStarted', 'callEnded', 'rosterUpdated'],
			meetingOptions: { lifetimeMinutes: 1 },
		});
		await env.api.activate(roster.id);
		const [allHands] = await waitForMeetingSubscriptions(roster, [ALL_HANDS]);
		const current = env.sim.buildMeetingCallEvent({ kind: 'rosterUpdated', joined: [adele, cyril], left: [bianca] }, TENANT);
		const earlier = env.sim.buildMeetingCallEvent({ kind: 'rosterUpdated', spelling: 'earlier', joined: [bianca], left: [cyril] }, TENANT);
		for (const [index, event] of [current, earlier].entries()) {
			const [result] = await env.sim.sendBatch([env.sim.meetingNotificationFor(allHands, event)]);
			expect(result.status).toBe(202);
			await env.waitForRuns(roster, index + 1);
		}
		const runs = await env.runs(roster);
		expect(runs).toHaveLength(2);
		expect(await env.executions(roster)).toHaveLength(2);
		const person = (user: (typeof USERS)[number]) =>
			expect.objectContaining({ id: user.id, displayName: user.displayName, tenantId: TENANT, identityType: 'user' });
		const items = runs.map((run) => env.itemsOf(run));
		expect(items.map((list) => list.length)).toEqual([1, 1]);
		expect(items[0][0]).toMatchObject({
			event: 'rosterUpdated',
			source: 'meetingCallEvents',
			joinWebUrl: ALL_HANDS,
			startDateTime: null,
			endDateTime: null,
			subscriptionId: allHands.id,
			tenantId: TENANT,
			data: current,
		});
		expect(items[0][0].participants).toEqual({ joined: [person(adele), person(cyril)], left: [person(bianca)] });
		expect(items[1][0]).toMatchObject({ event: 'rosterUpdated', joinWebUrl: ALL_HANDS, data: earlier });
		expect(items[1][0].participants).toEqual({ joined: [person(bianca)], left: [person(cyril)] });

		await env.api.deactivate(roster.id);
		await waitFor('the roster workflow unsubscribed', () => (env.live(roster).length === 0 ? true : undefined), 30_000);
		// The unasked roster update in the main workflow: one execution, no run.
		const unaskedRuns = await env.waitForExecutions(workflow, before + 1);
		expect(unaskedRuns).toHaveLength(before + 1);
		env.expectEndedAtTrigger(unaskedRuns.slice(before));
		expect(await env.runs(workflow)).toHaveLength(runsBefore);
	});

	it('2c. Graph delivers the same notification again: an execution each time, the workflow runs once', async () => {
		const before = (await env.executions(workflow)).length;
		const runsBefore = (await env.runs(workflow)).length;
		const item = env.sim.meetingNotificationFor(onlyLiveOf(REVIEW), env.sim.buildMeetingCallEvent({ kind: 'callStarted' }));
		for (let attempt = 0; attempt < 3; attempt++) {
			const [result] = await env.sim.sendBatch([item]);
			expect(result.status).toBe(202);
		}
		await env.waitForExecutions(workflow, before + 3);
		await expectNoNewExecution(workflow, before + 3);
		const executions = (await env.executions(workflow)).slice(before);
		// n8n's store of what ran lets one through; the other two end at the trigger.
		const runs = runsOf(executions);
		expect(runs.map((e) => env.itemsOf(e).map((i) => [i.event, i.joinWebUrl]))).toEqual([[['callStarted', REVIEW]]]);
		env.expectEndedAtTrigger(executions.filter((e) => !runs.includes(e)));
		expect(await env.runs(workflow)).toHaveLength(runsBefore + 1);
	});

	it('7. hostile input: wrong clientState 401, tampered payload and a basic notification dropped with a warning, malformed JSON 422; nothing runs', async () => {
		const before = (await env.executions(workflow)).length;
		const runsBefore = (await env.runs(workflow)).length;
		const logFrom = env.n8n.logs().length;
		const sub = onlyLiveOf(STANDUP);
		const callStarted = () => env.sim.meetingNotificationFor(sub, env.sim.buildMeetingCallEvent({ kind: 'callStarted' }));
		const answers: Record<string, number | undefined> = {};
		const send = async (label: string, ...args: Parameters<typeof env.sim.sendBatch>) => {
			const [result] = await env.sim.sendBatch(...args);
			answers[label] = result.status;
		};

		await send('wrong clientState', [
			env.sim.meetingNotificationFor(sub, env.sim.buildMeetingCallEvent({ kind: 'callStarted' }), { overrides: { clientState: 'x'.repeat(64) } }),
		]);
		const tamperedData = callStarted();
		const data = Buffer.from(tamperedData.encryptedContent!.data, 'base64');
		data[data.length >> 1] ^= 0x01;
		tamperedData.encryptedContent!.data = data.toString('base64');
		await send('a byte of the encrypted data changed', [tamperedData]);
		const tamperedSignature = callStarted();
		const signature = Buffer.from(tamperedSignature.encryptedContent!.dataSignature, 'base64');
		signature[0] ^= 0x01;
		tamperedSignature.encryptedContent!.dataSignature = signature.toString('base64');
		await send('a byte of the signature changed', [tamperedSignature]);
		await send('a basic notification (the event in resourceData, no validation tokens)', [
			env.sim.meetingNotificationFor(sub, env.sim.buildMeetingCallEvent({ kind: 'callEnded' }), { basic: true }),
		]);
		const malformed = await env.sim.deliver(workflow.notifyUrl, '{"value":[{"subscriptionId":');
		answers['malformed JSON'] = malformed.status;
		// n8n's body parser answers before the node runs.
		expect(malformed.attempts[0].bodyText).toContain('Failed to parse request body');

		expect(answers).toEqual({
			'wrong clientState': 401,
			'a byte of the encrypted data changed': 202,
			'a byte of the signature changed': 202,
			'a basic notification (the event in resourceData, no validation tokens)': 202,
			'malformed JSON': 422,
		});
		// The two tampered notifications pass webhook() (clientState and validation tokens right): each makes an
		// execution that cannot open it and ends at the trigger. The others make none.
		await env.waitForExecutions(workflow, before + 2);
		await expectNoNewExecution(workflow, before + 2);
		env.expectEndedAtTrigger((await env.executions(workflow)).slice(before));
		expect(await env.runs(workflow)).toHaveLength(runsBefore);
		expect(await env.api.healthy()).toBe(true);
		expect(env.n8n.isRunning).toBe(true);

		const log = env.n8n.logs().slice(logFrom);
		// Each tampered notification: one warning naming the reason.
		expect(log.match(/Dropped 1 of 1 meeting call notifications \(SIGNATURE_MISMATCH: 1\)/g)).toHaveLength(2);
		expect(log).toMatch(/Ignored a notification batch that could not be proven to come from Microsoft Graph: the batch carries no validationTokens/);
		expectNoSecretInLog();

		// Genuine traffic still flows.
		const [ok] = await env.sim.sendBatch([callStarted()]);
		expect(ok.status).toBe(202);
		const runs = await env.waitForRuns(workflow, runsBefore + 1);
		expect(env.itemsOf(runs[runsBefore])).toEqual([expect.objectContaining({ event: 'callStarted', joinWebUrl: STANDUP })]);
	});

	it(`3. renewal without traffic over ${LIFETIMES} one-minute lifetimes: renewed before expiry, no gap, no new subscription`, async () => {
		const initial = MEETINGS.map(onlyLiveOf);
		const createsBefore = creates();
		const sampler = sampleLiveness(() => MEETINGS.map((joinUrl, index) => [`meeting ${index + 1}`, liveOf(joinUrl).length]));
		await sleep(LIFETIMES * LIFETIME_MS + 5_000);
		const { samples, gaps, duplicates } = sampler.stop();

		expect(samples).toBeGreaterThan(LIFETIMES * 200);
		expect(gaps).toEqual([]);
		expect(duplicates).toEqual([]);
		expect(creates()).toBe(createsBefore);
		for (const [index, sub] of initial.entries()) {
			expect(onlyLiveOf(MEETINGS[index]).id).toBe(sub.id);
			const patches = expectRenewedBeforeExpiry(env.sim, sub.id, LIFETIME_MS, LIFETIMES * LIFETIME_MS + 5_000);
			expect(patches.map((p) => p.path)).toEqual(patches.map(() => `/beta/subscriptions/${sub.id}`));
		}
		process.stderr.write(
			`scenario 3: ${samples} samples over ${LIFETIMES} lifetimes, ${initial.map((s) => `${patchesOf(s.id).length} renewals`).join(', ')}\n`,
		);
		await expectEventsFlow();
	});

	it('5a. lifecycle reauthorizationRequired: a PATCH follows at once', async () => {
		const sub = onlyLiveOf(STANDUP);
		// The timer renews 30-40 s after the last renewal: send within 15 s of one, so that the next is at
		// least 15 s away and any PATCH in the next 5 s answers the lifecycle notification.
		const renewedAgo = () => Date.now() - (patchesOf(sub.id).at(-1)?.time ?? 0);
		await waitFor('a timer renewal less than 15 s ago', () => renewedAgo() < 15_000, 50_000, 100);
		const before = (await env.executions(workflow)).length;
		const sentAt = Date.now();
		const [result] = await env.sim.sendBatch([env.sim.lifecycleNotificationFor(sub, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		expect(result.url).toBe(workflow.notifyUrl);
		const patch = await waitFor('a PATCH after reauthorizationRequired', () => patchesOf(sub.id, sentAt)[0], 10_000, 100);
		expect(patch.status).toBe(200);
		expect(patch.time - sentAt).toBeLessThan(5_000);
		process.stderr.write(`scenario 5a: PATCH ${patch.time - sentAt} ms after the lifecycle notification\n`);
		expect(liveOf(STANDUP).map((s) => s.id)).toEqual([sub.id]);
		await expectNoNewExecution(workflow, before, 1000);
	});

	it('5b. lifecycle subscriptionRemoved: recreated at once for the same meeting, no duplicate', async () => {
		const sub = onlyLiveOf(REVIEW);
		const createsBefore = creates();
		env.sim.removeSubscription(sub.id);
		const sentAt = Date.now();
		const [result] = await env.sim.sendBatch([env.sim.lifecycleNotificationFor(sub, 'subscriptionRemoved')]);
		expect(result.status).toBe(202);
		const restored = await waitFor('a new subscription after subscriptionRemoved', () => liveOf(REVIEW)[0], 15_000, 100);
		process.stderr.write(`scenario 5b: recreated ${Date.now() - sentAt} ms after the lifecycle notification\n`);
		expect(restored.id).not.toBe(sub.id);
		expect(restored).toMatchObject({ resource: resourceOf(REVIEW), includeResourceData: true, clientState: sub.clientState });
		await sleep(2_000);
		expect(liveOf(REVIEW)).toHaveLength(1);
		expect(creates()).toBe(createsBefore + 1);
		await expectEventsFlow();
	});

	it(`4. restart after a downtime in which both subscriptions expired: recreated within ${RESTART_BOUND_MS / 1000} s of readiness, no duplicate, events flow`, async () => {
		const old = MEETINGS.map((joinUrl) => onlyLiveOf(joinUrl).id);
		const createsBefore = creates();
		let downtimeMs = 0;
		await env.restart(async () => {
			const stoppedAt = Date.now();
			// Graph lets them lapse on its own: n8n is down past their expiry.
			await waitFor('both subscriptions expired', () => (env.live(workflow).length === 0 ? true : undefined), LIFETIME_MS + 10_000, 250);
			await sleep(2_000);
			downtimeMs = Date.now() - stoppedAt;
			for (const id of old) expect(env.sim.getSubscription(id)?.state).toBe('active');
		});
		const readyAt = env.n8n.readyAt;
		const recreated = await waitForMeetingSubscriptions(workflow, MEETINGS, RESTART_BOUND_MS);
		process.stderr.write(`scenario 4: n8n down ${Math.round(downtimeMs / 1000)} s, subscriptions back ${Date.now() - readyAt} ms after readiness\n`);
		expect(recreated.some((s) => old.includes(s.id))).toBe(false);
		await sleep(5_000);
		expect(env.live(workflow)).toHaveLength(MEETINGS.length);
		expect(creates()).toBe(createsBefore + MEETINGS.length);
		await expectEventsFlow();
	});

	it('6. deactivate: every subscription deleted; a notification afterwards runs nothing', async () => {
		const subs = env.live(workflow);
		expect(subs).toHaveLength(2);
		await env.api.deactivate(workflow.id);
		await waitFor('all subscriptions deleted', () => env.sim.subscriptions().length === 0, 30_000);
		for (const sub of subs) {
			expect(env.sim.getSubscription(sub.id)?.state).toBe('deleted');
			expect(env.sim.countRequests({ method: 'DELETE', path: `/beta/subscriptions/${sub.id}` })).toBe(1);
		}
		const before = (await env.executions(workflow)).length;
		const [late] = await env.sim.sendBatch([env.sim.meetingNotificationFor(subs[0], env.sim.buildMeetingCallEvent({ kind: 'callEnded' }))]);
		expect(late.status).toBe(404);
		await expectNoNewExecution(workflow, before, 1000);

		expectNoSecretInLog();
		expect(JSON.stringify(await env.executions(workflow))).not.toContain(env.clientSecret);
	});

	it('8. activation refused with what to fix: a link that is not a Teams meeting, and an app without the application access policy', async () => {
		// n8n 2.41 tries a failing trigger activation 5 times over about 15 s: both workflows at once.
		const createsBefore = creates();
		env.sim.revokeMeetingAccessPolicy(CLIENT_ID);
		const zoom = await env.createTriggerWorkflow('Meeting call events e2e (not a Teams link)', {
			source: 'meetingCallEvents',
			meetingJoinUrls: [STANDUP, 'https://zoom.us/j/123456'],
		});
		const retro = await env.createTriggerWorkflow('Meeting call events e2e (no access policy)', {
			source: 'meetingCallEvents',
			meetingJoinUrls: [RETRO],
		});
		const [badLink, noPolicy] = await Promise.all([activationRefused(zoom), activationRefused(retro)]);
		process.stderr.write(`scenario 8, not a Teams link: ${badLink}\nscenario 8, no access policy: ${noPolicy}\n`);

		expect(badLink).toContain('Meeting Join URL 2: "https://zoom.us/j/123456" is not a Teams meeting join link');
		expect(badLink).toContain('https://teams.microsoft.com/l/meetup-join/');
		expect(noPolicy).toMatch(/^meeting https:\/\/teams\.microsoft\.com\/meet\/29384756102938: the app is not allowed to read this meeting's call events/);
		expect(noPolicy).toContain('an application access policy');
		expect(noPolicy).toMatch(/New-CsApplicationAccessPolicy .*Grant-CsApplicationAccessPolicy/);
		expect(noPolicy).toContain('OnlineMeetings.Read.All');
		expect(noPolicy).toContain('No application access policy found for this app');

		// The bad link is refused before Graph is asked; the meeting without a policy was asked for and refused.
		const posts = env.sim.findRequests({ method: 'POST', path: '/beta/subscriptions' }).slice(createsBefore);
		expect(posts.length).toBeGreaterThan(0);
		expect(posts.every((p) => p.status === 403)).toBe(true);
		expect(env.sim.subscriptions()).toEqual([]);
		for (const refused of [zoom, retro]) {
			const stored = (await env.api.workflow(refused.id)) as { active?: boolean };
			process.stderr.write(`scenario 8: workflow ${refused.id} active=${String(stored.active)} after the refusal\n`);
		}
		expectNoSecretInLog();
	});
});
