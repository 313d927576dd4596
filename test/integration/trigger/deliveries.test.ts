import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { skipCallRecordHolds } from '../../support/skipCallRecordHolds';
import { CLIENT_ID, startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/**
 * Acknowledged means durable, run once: webhook() admits, execute() does the work, and n8n's store (modelled
 * by the harness as n8n 2.41.1's processed-data table, which outlives a process) decides what already ran.
 * "Another process" is fixture.restart(): every memory of this process is gone, the database stays.
 */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca] = USERS;
const STANDUP = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzM4YmJhZDQtY2E1Mi00%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
let fixture: TriggerFixture;
afterEach(async () => fixture?.close());

const only = (): StoredSubscription => {
	const subscriptions = fixture.sim.subscriptions();
	expect(subscriptions).toHaveLength(1);
	return subscriptions[0] as StoredSubscription;
};
const recordReads = () => fixture.sim.countRequests({ method: 'GET', path: /\/communications\/callRecords\// });

async function callEvents() {
	fixture = await startTriggerFixture({ users: [adele.id] });
	await fixture.harness.activate();
	return only();
}

async function callRecords(parameters: Record<string, unknown> = {}) {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [adele.id], recordOptions: { waitForRecordSeconds: 4 }, ...parameters },
		{ permissions: ['CallRecords.Read.All', 'User.Read.All'], withoutCertificateCredential: true },
	);
	await fixture.harness.activate();
	return only();
}

async function meetingCallEvents() {
	fixture = await startTriggerFixture({ source: 'meetingCallEvents', meetingJoinUrls: [STANDUP] }, { permissions: ['OnlineMeetings.Read.All'] });
	fixture.sim.addMeeting(STANDUP, adele.id);
	fixture.sim.grantMeetingAccessPolicy(CLIENT_ID);
	await fixture.harness.activate();
	return only();
}

const recordOf = () => fixture.sim.addCallRecord({ type: 'peerToPeer', modalities: ['audio'], organizer: adele, participants: [adele, bianca] });

describe('the webhook admits, the execution does the work', () => {
	it('hands the execution the notification still sealed and without its clientState; execute() opens it', async () => {
		const sub = await callEvents();
		const notification = fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));
		const [answer] = await fixture.deliver([notification]);
		expect(answer.status).toBe(202);
		const [execution] = fixture.harness.executions;
		expect(JSON.stringify(execution.admitted)).toContain(notification.encryptedContent.data);
		expect(JSON.stringify(execution.admitted)).not.toContain(sub.clientState);
		expect(JSON.stringify(execution.admitted)).not.toContain('callStarted');
		expect(execution.items.map(({ json }) => json.event)).toEqual(['callStarted']);
	});

	it('leaves the 202 to n8n for call records too: nothing is read before the execution exists', async () => {
		const sub = await callRecords();
		const record = recordOf();
		const [answer] = await fixture.deliver([fixture.sim.callRecordNotificationFor(sub, record.id)]);
		expect(answer.status).toBe(202);
		expect(fixture.harness.executions.map((execution) => execution.answeredBeforeStart)).toEqual([false]);
		expect(fixture.harness.runs.map((execution) => execution.items.map(({ json }) => json.callId))).toEqual([[record.id]]);
	});
});

describe('one run per event, across processes and restarts', () => {
	it('a restart keeps nothing of the process: credentials, certificate, signing keys and dedup memory come back from n8n and Graph', async () => {
		const sub = await callEvents();
		const keyFetches = () => fixture.sim.countRequests({ host: 'login', method: 'GET', path: /\/discovery\/(v2\.0\/)?keys$/ });
		const first = fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));
		await fixture.deliver([first]);
		await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'ended' }))]);
		// Within one process the certificate is read once and the keys were fetched at activation.
		const certificateReads = fixture.harness.credentialReads.microsoftGraphNotificationCertificateApi ?? 0;
		const fetchesBefore = keyFetches();
		fixture.restart();
		await fixture.deliver([first]);
		await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }))]);
		// The new process read the certificate credential and fetched the signing keys again (once each),
		expect(fixture.harness.credentialReads.microsoftGraphNotificationCertificateApi).toBe(certificateReads + 1);
		expect(keyFetches()).toBe(fetchesBefore + 1);
		// and only n8n's store told it that the first notification had run.
		expect(fixture.harness.runs.map((run) => run.items.map(({ json }) => json.event))).toEqual([['callStarted'], ['callEnded'], ['callStarted']]);
	});

	it('call events: the same notification in this process, then in another, runs once', async () => {
		const sub = await callEvents();
		const notification = fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));
		await fixture.deliver([notification]);
		await fixture.deliver([notification]);
		fixture.restart();
		await fixture.deliver([notification]);
		expect(fixture.harness.executions).toHaveLength(3);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('call events: a byte-identical redelivery of a notification with neither id nor event time runs once; a new event runs', async () => {
		const sub = await callEvents();
		// As Graph's documentation shows a call event: eventType, direction, csUrl, no notification id, no time.
		const notification = fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started', extra: { eventDateTime: undefined } }), { id: undefined });
		expect(notification).not.toHaveProperty('id');
		for (let delivery = 0; delivery < 3; delivery++) await fixture.deliver([structuredClone(notification)]);
		fixture.restart();
		await fixture.deliver([structuredClone(notification)]);
		expect(fixture.harness.runs).toHaveLength(1);
		await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started', extra: { eventDateTime: undefined } }), { id: undefined })]);
		expect(fixture.harness.runs).toHaveLength(2);
	});

	it('call events: two deliveries of one notification at the same moment in one process run once', async () => {
		const sub = await callEvents();
		const notification = fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));
		await Promise.all([fixture.deliver([notification]), fixture.deliver([structuredClone(notification)]), fixture.deliver([structuredClone(notification)])]);
		expect(fixture.harness.executions).toHaveLength(3);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('call records: the same notification in another process runs once', async () => {
		const sub = await callRecords();
		const notification = fixture.sim.callRecordNotificationFor(sub, recordOf().id);
		await fixture.deliver([notification]);
		fixture.restart();
		await fixture.deliver([notification]);
		expect(fixture.harness.runs).toHaveLength(1);
		// The other process had to read the record to know its version; this one knew it ran.
		expect(recordReads()).toBe(2);
	});

	it('meeting call events: the same notification in another process runs once', async () => {
		const sub = await meetingCallEvents();
		const notification = fixture.sim.meetingNotificationFor(sub, fixture.sim.buildMeetingCallEvent({ kind: 'callStarted' }));
		await fixture.deliver([notification]);
		fixture.restart();
		await fixture.deliver([notification]);
		expect(fixture.harness.runs).toHaveLength(1);
	});

	it('call record updated: a later version after a restart is callRecordUpdated, and each version runs once', async () => {
		const sub = await callRecords({ recordEvents: ['callEnded', 'callRecordUpdated'] });
		const record = recordOf();
		await fixture.deliver([fixture.sim.callRecordNotificationFor(sub, record.id)]);
		fixture.restart();
		fixture.sim.updateCallRecord(record.id, { modalities: ['audio', 'video'] });
		const updated = fixture.sim.callRecordNotificationFor(sub, record.id, 'updated');
		await fixture.deliver([updated]);
		fixture.restart();
		await fixture.deliver([updated]);
		expect(fixture.harness.runs.map((execution) => execution.items.map(({ json }) => [json.event, json.version]))).toEqual([
			[['callEnded', 1]],
			[['callRecordUpdated', 2]],
		]);
	});
});

describe("when n8n's database cannot be used", () => {
	it('fails the execution with a message that says so, and the redelivery runs once when the database is back', async () => {
		const sub = await callEvents();
		const notification = fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }));
		fixture.harness.processedData.unavailable = true;
		await fixture.deliver([notification]);
		expect(fixture.harness.executions[0].error?.message).toBe("Could not check in n8n's database which call events already ran");
		expect((fixture.harness.executions[0].error as { description?: string }).description).toMatch(/^connect ECONNREFUSED .*retry this execution\.$/);
		expect(fixture.harness.runs).toHaveLength(0);
		fixture.harness.processedData.unavailable = false;
		await fixture.deliver([notification]);
		await fixture.deliver([notification]);
		expect(fixture.harness.runs).toHaveLength(1);
		expect(logsOfThisTest().map((line) => line.message).join('\n')).not.toContain(sub.clientState);
	});
});

describe('test runs stay apart', () => {
	it('a "Listen for test event" run records nothing in the store production uses', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		await fixture.harness.activateTest();
		const test = only();
		const notification = fixture.sim.notificationFor(test, fixture.sim.buildCallEvent(test, { kind: 'started' }));
		await fixture.deliver([notification]);
		expect(fixture.harness.runs.map((execution) => execution.mode)).toEqual(['manual']);
		expect(fixture.harness.processedData.calls).toBe(0);
		await fixture.harness.deactivateTest();

		await fixture.harness.activate();
		const sub = only();
		await fixture.deliver([fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }))]);
		expect(fixture.harness.runs.map((execution) => execution.mode)).toEqual(['manual', 'webhook']);
		expect(fixture.harness.processedData.size).toBeGreaterThan(0);
	});
});

describe('at volume', () => {
	it('6,000 distinct call records, then their notifications again: each runs once', async () => {
		const sub = await callRecords({ recordUsers: [] });
		// 12,000 reads at Graph's 1,500 per 20 s: the clock skips each hold instead of waiting it out.
		const holds = skipCallRecordHolds();
		try {
			const records = Array.from({ length: 6000 }, () => recordOf());
			const notifications = records.map((record) => fixture.sim.callRecordNotificationFor(sub, record.id));
			const inBatches = async () => {
				for (let start = 0; start < notifications.length; start += 1000) await fixture.deliver(notifications.slice(start, start + 1000));
			};
			await inBatches();
			expect(fixture.harness.runs.flatMap((execution) => execution.items)).toHaveLength(6000);
			fixture.restart();
			await inBatches();
			expect(fixture.harness.runs.flatMap((execution) => execution.items)).toHaveLength(6000);
			expect(fixture.harness.processedData.size).toBe(6000);
			expect(holds.skippedSeconds).toBeGreaterThan(0);
		} finally {
			holds.stop();
		}
	}, 120_000);
});
