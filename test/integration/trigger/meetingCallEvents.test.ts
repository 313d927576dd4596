import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { CLIENT_ID, startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { GraphSimulatorOptions, StoredSubscription } from '../../simulator';

/** The Meeting call events source (Graph beta) end to end through n8n-core's contexts, against the Graph simulator. */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca] = USERS;
const STANDUP = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzM4YmJhZDQtY2E1Mi00%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%2c%22Oid%22%3a%22o%22%7d';
const REVIEW = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_OTk5ZWI2YjMtOWI1Zi00%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
const keyedResource = (joinUrl: string) => `communications/onlineMeetings(joinWebUrl='${encodeURIComponent(joinUrl)}')/meetingCallEvents`;

let fixture: TriggerFixture;
afterEach(async () => fixture?.close());

const creates = () => fixture.sim.countRequests({ method: 'POST', path: /\/subscriptions$/ });
const patches = () => fixture.sim.countRequests({ method: 'PATCH', path: /\/subscriptions\// });

async function started(
	parameters: Record<string, unknown> = {},
	options: { simulator?: GraphSimulatorOptions; permissions?: string[]; accessPolicy?: boolean } = {},
) {
	fixture = await startTriggerFixture(
		{ source: 'meetingCallEvents', meetingJoinUrls: [STANDUP], ...parameters },
		{ simulator: options.simulator, permissions: options.permissions ?? ['OnlineMeetings.Read.All'] },
	);
	fixture.sim.addMeeting(STANDUP, adele.id);
	fixture.sim.addMeeting(REVIEW, bianca.id);
	if (options.accessPolicy !== false) fixture.sim.grantMeetingAccessPolicy(CLIENT_ID);
	return fixture;
}

async function activated(parameters: Record<string, unknown> = {}, options: { withTimer?: boolean } = {}) {
	await started(parameters);
	if (options.withTimer) await fixture.harness.startTrigger();
	await fixture.harness.activate();
	fixture.sim.clearRequests();
	return fixture;
}

const onlySubscription = () => {
	const subscriptions = fixture.sim.subscriptions();
	expect(subscriptions).toHaveLength(1);
	return subscriptions[0] as StoredSubscription;
};
const emitted = () => fixture.harness.runs.flatMap((execution) => execution.items.map((item) => item.json));

describe('activation', () => {
	it('subscribes to each meeting on beta: rich with the certificate, updated, 4,230 minutes, its own clientState', async () => {
		await activated({ meetingJoinUrls: [STANDUP, REVIEW] });
		const subscriptions = fixture.sim.subscriptions();
		expect(subscriptions.map((s) => s.resource).sort()).toEqual([keyedResource(STANDUP), keyedResource(REVIEW)].sort());
		for (const subscription of subscriptions) {
			expect(subscription).toMatchObject({
				changeType: 'updated',
				notificationUrl: fixture.harness.url('notify'),
				lifecycleNotificationUrl: fixture.harness.url('notify'),
				includeResourceData: true,
				encryptionCertificateId: 'teams-calls-test-cert',
			});
			const lifetimeMs = Date.parse(subscription.expirationDateTime) - Date.now();
			expect(lifetimeMs).toBeGreaterThan(4229 * 60_000);
			expect(lifetimeMs).toBeLessThanOrEqual(4230 * 60_000);
		}
		expect(new Set(subscriptions.map((s) => s.clientState)).size).toBe(2);
		expect(JSON.stringify(fixture.harness.staticData)).toContain(subscriptions[0].id);
	});

	it('subscribes on the beta endpoint', async () => {
		await started();
		await fixture.harness.activate();
		expect(fixture.sim.findRequests({ method: 'POST', path: /\/subscriptions$/ }).map((r) => r.path)).toEqual(['/beta/subscriptions']);
	});

	it('refuses a link that is not a Teams meeting, naming it, before asking Graph', async () => {
		await started({ meetingJoinUrls: [STANDUP, 'https://zoom.us/j/123456'] });
		await expect(fixture.harness.activate()).rejects.toThrow(/Meeting Join URL 2: "https:\/\/zoom\.us\/j\/123456" is not a Teams meeting join link/);
		expect(creates()).toBe(0);
	});

	it('says the app needs an application access policy when Graph answers 403', async () => {
		await started({}, { accessPolicy: false });
		await expect(fixture.harness.activate()).rejects.toThrow(/OnlineMeetings\.Read\.All.*application access policy.*New-CsApplicationAccessPolicy.*Grant-CsApplicationAccessPolicy.*Graph said: ExtensionError.*No application access policy/);
		expect(fixture.sim.subscriptions()).toHaveLength(0);
	});

	it('says when the tenant has no such meeting', async () => {
		await started({ meetingJoinUrls: ['https://teams.microsoft.com/l/meetup-join/19%3ameeting_unknown%40thread.v2/0'] });
		await expect(fixture.harness.activate()).rejects.toThrow(/knows no online meeting with this join URL/);
	});

	it('deletes its subscriptions on deactivation', async () => {
		await activated({ meetingJoinUrls: [STANDUP, REVIEW] });
		await fixture.harness.deactivate();
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		expect(fixture.harness.staticData).toEqual({});
	});
});

describe('notifications', () => {
	it('emits callStarted from a rich notification in the current spelling', async () => {
		await activated();
		const subscription = onlySubscription();
		const event = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted', eventDateTime: '2026-12-01T09:00:00Z' });
		const [result] = await fixture.deliver([fixture.sim.meetingNotificationFor(subscription, event)]);
		expect(result.status).toBe(202);
		expect(emitted()).toEqual([
			{
				event: 'callStarted',
				source: 'meetingCallEvents',
				callId: null,
				joinWebUrl: STANDUP,
				startDateTime: '2026-12-01T09:00:00Z',
				endDateTime: null,
				participants: null,
				eventDateTime: '2026-12-01T09:00:00Z',
				receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
				subscriptionId: subscription.id,
				tenantId: TENANT,
				changeType: 'updated',
				data: event,
			},
		]);
	});

	it('emits callEnded from the earlier spelling', async () => {
		await activated();
		const subscription = onlySubscription();
		const earlier = fixture.sim.buildMeetingCallEvent({ kind: 'callEnded', spelling: 'earlier', eventDateTime: '2026-12-01T09:30:00Z' });
		await fixture.deliver([fixture.sim.meetingNotificationFor(subscription, earlier)]);
		expect(emitted().map((item) => [item.event, item.startDateTime, item.endDateTime])).toEqual([['callEnded', null, '2026-12-01T09:30:00Z']]);
	});

	it('refuses a basic notification (no validation tokens) for its rich subscription: a clientState alone proves nothing Graph signed', async () => {
		await activated();
		const subscription = onlySubscription();
		const basic = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted', eventDateTime: '2026-12-01T10:00:00Z' });
		const [result] = await fixture.deliver([fixture.sim.meetingNotificationFor(subscription, basic, { basic: true })]);
		expect(result.status).toBe(202);
		expect(emitted()).toEqual([]);
		expect(logsOfThisTest().some((l) => l.level === 'warn' && l.message.includes('could not be proven to come from Microsoft Graph'))).toBe(true);
	});

	it('emits roster updates when chosen, in both spellings, with who joined and who left', async () => {
		await activated({ meetingEvents: ['rosterUpdated'] });
		const subscription = onlySubscription();
		const current = fixture.sim.buildMeetingCallEvent({ kind: 'rosterUpdated', joined: [adele], left: [bianca] }, TENANT);
		const earlier = fixture.sim.buildMeetingCallEvent({ kind: 'rosterUpdated', spelling: 'earlier', joined: [bianca] }, TENANT);
		const started = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' });
		await fixture.deliver([
			fixture.sim.meetingNotificationFor(subscription, current),
			fixture.sim.meetingNotificationFor(subscription, earlier),
			fixture.sim.meetingNotificationFor(subscription, started),
		]);
		const items = emitted();
		expect(items.map((item) => item.event)).toEqual(['rosterUpdated', 'rosterUpdated']);
		const person = (user: typeof adele) => expect.objectContaining({ id: user.id, displayName: user.displayName, tenantId: TENANT, identityType: 'user' });
		expect(items[0].participants).toEqual({ joined: [person(adele)], left: [person(bianca)] });
		expect(items[1].participants).toEqual({ joined: [person(bianca)], left: [] });
	});

	it('runs once when Graph delivers the same notification again', async () => {
		await activated();
		const notification = fixture.sim.meetingNotificationFor(onlySubscription(), fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' }));
		await fixture.deliver([notification]);
		await fixture.deliver([notification]);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('passes an event type it does not know through as unknown, with the type Graph sent', async () => {
		await activated();
		const event = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted', extra: { eventType: 'callTransferred' } });
		await fixture.deliver([fixture.sim.meetingNotificationFor(onlySubscription(), event)]);
		expect(emitted()).toEqual([expect.objectContaining({ event: 'unknown', originalEventType: 'callTransferred', startDateTime: null, data: event })]);
	});

	it('subscribes for the lifetime chosen in the options', async () => {
		await activated({ meetingOptions: { lifetimeMinutes: 120 } });
		const lifetimeMs = Date.parse(onlySubscription().expirationDateTime) - Date.now();
		expect(lifetimeMs).toBeGreaterThan(119 * 60_000);
		expect(lifetimeMs).toBeLessThanOrEqual(120 * 60_000);
	});

	it('adds the raw notification when asked, without its clientState', async () => {
		await activated({ meetingOptions: { includeRawNotification: true } });
		const subscription = onlySubscription();
		await fixture.deliver([fixture.sim.meetingNotificationFor(subscription, fixture.sim.buildMeetingCallEvent({ kind: 'callEnded' }))]);
		const raw = emitted()[0].rawNotification as Record<string, unknown>;
		expect(raw).toMatchObject({ subscriptionId: subscription.id, resource: subscription.resource });
		expect(raw).not.toHaveProperty('clientState');
	});
});

describe('notifications that must not run the workflow', () => {
	it('refuses a wrong clientState with 401', async () => {
		await activated();
		const event = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' });
		const [result] = await fixture.deliver([fixture.sim.meetingNotificationFor(onlySubscription(), event, { overrides: { clientState: 'x'.repeat(64) } })]);
		expect(result.status).toBe(401);
		expect(fixture.harness.executions).toHaveLength(0);
	});

	it('drops a tampered payload and logs it once', async () => {
		await activated();
		const notification = fixture.sim.meetingNotificationFor(onlySubscription(), fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' }));
		const content = notification.encryptedContent as { data: string };
		const bytes = Buffer.from(content.data, 'base64');
		bytes[0] ^= 1;
		content.data = bytes.toString('base64');
		const [result] = await fixture.deliver([notification]);
		expect(result.status).toBe(202);
		expect(fixture.harness.runs).toHaveLength(0);
		expect(logsOfThisTest().filter((log) => /Dropped 1 of 1 meeting call notifications/.test(log.message))).toHaveLength(1);
	});

	it('drops a notification of this subscription that names another meeting', async () => {
		await activated();
		const event = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' });
		await fixture.deliver([fixture.sim.meetingNotificationFor(onlySubscription(), event, { overrides: { resource: keyedResource(REVIEW) } })]);
		expect(fixture.harness.runs).toHaveLength(0);
		expect(logsOfThisTest().some((log) => /Dropped 1 of 1 meeting call notifications \(OTHER_MEETING: 1\)/.test(log.message))).toBe(true);
	});

	it('ignores a rich batch whose validation tokens do not verify', async () => {
		await activated();
		const event = fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' });
		const forged = fixture.sim.validationTokenFor(CLIENT_ID, TENANT, {}, { foreignKey: true });
		await fixture.deliver([fixture.sim.meetingNotificationFor(onlySubscription(), event)], { validationTokens: [forged] });
		expect(fixture.harness.executions).toHaveLength(0);
	});
});

describe('over time', () => {
	let clock: ReturnType<typeof useFakeDate>;
	beforeEach(() => {
		clock = useFakeDate();
	});
	afterEach(() => clock.restore());

	it('renews each subscription at half its lifetime and keeps it alive for a week', async () => {
		await activated({}, { withTimer: true });
		const subscription = onlySubscription();
		for (let half = 0; half < 6; half++) {
			clock.advanceMinutes(2116);
			await fixture.harness.tick();
		}
		expect(patches()).toBe(6);
		expect(creates()).toBe(0);
		expect(onlySubscription().id).toBe(subscription.id);
		await fixture.deliver([fixture.sim.meetingNotificationFor(onlySubscription(), fixture.sim.buildMeetingCallEvent({ kind: 'callEnded' }))]);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('after n8n was down longer than the lifetime, subscribes again at start with the same clientState', async () => {
		await activated({}, { withTimer: true });
		const before = onlySubscription();
		fixture.restart();
		clock.advanceMinutes(4300);
		expect(fixture.sim.subscriptions()).toHaveLength(0);
		await fixture.harness.startTrigger('init');
		await fixture.harness.activate('init');
		const after = onlySubscription();
		expect(after.id).not.toBe(before.id);
		expect(after.clientState).toBe(before.clientState);
		expect(after.resource).toBe(before.resource);
		const [result] = await fixture.deliver([fixture.sim.meetingNotificationFor(after, fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' }))]);
		expect(result.status).toBe(202);
		expect(fixture.harness.runs).toHaveLength(1);
	});
});

describe('lifecycle notifications', () => {
	it('reauthorizationRequired renews with a PATCH and runs nothing', async () => {
		await activated();
		const subscription = onlySubscription();
		const [result] = await fixture.deliver([fixture.sim.lifecycleNotificationFor(subscription, 'reauthorizationRequired')]);
		expect(result.status).toBe(202);
		expect(fixture.sim.countRequests({ method: 'PATCH', path: `/beta/subscriptions/${subscription.id}` })).toBe(1);
		expect(fixture.harness.executions).toHaveLength(0);
	});

	it('subscriptionRemoved subscribes again to the same meeting, rich, with the same clientState', async () => {
		await activated();
		const subscription = onlySubscription();
		fixture.sim.removeSubscription(subscription.id);
		await fixture.deliver([fixture.sim.lifecycleNotificationFor(subscription, 'subscriptionRemoved')]);
		const restored = onlySubscription();
		expect(restored.id).not.toBe(subscription.id);
		expect(restored).toMatchObject({ resource: subscription.resource, clientState: subscription.clientState, includeResourceData: true });
		expect(JSON.stringify(fixture.harness.staticData)).toContain(restored.id);
	});
});

describe('listen for test event', () => {
	it('subscribes at the test URL and hands the event to the manual execution', async () => {
		await started();
		await fixture.harness.activateTest();
		const test = onlySubscription();
		expect(test.notificationUrl).toBe(fixture.harness.url('notify', true));
		await fixture.deliver([fixture.sim.meetingNotificationFor(test, fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' }))]);
		const result = await fixture.harness.runManualExecution();
		expect(result[0][0].json).toMatchObject({ event: 'callStarted', source: 'meetingCallEvents', joinWebUrl: STANDUP });
		await fixture.harness.deactivateTest();
		expect(fixture.sim.subscriptions()).toHaveLength(0);
	});
});
