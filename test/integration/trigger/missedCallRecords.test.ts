import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { GraphSimulatorOptions, StoredSubscription } from '../../simulator';

/**
 * Call Records: the renewal timer's sweep for records whose notification never came (Graph has had
 * incidents in which call-record notifications stopped for hours), end to end through n8n-core's contexts
 * against the Graph simulator. The simulator's clock is the (faked) Date; the timer's ticks are driven by hand.
 */
const logsOfThisTest = logsOfEachTest();

const [adele, bianca, cyril] = USERS;
let fixture: TriggerFixture;
let clock: ReturnType<typeof useFakeDate>;
const MINUTE = 60_000;

beforeEach(() => {
	clock = useFakeDate();
});
afterEach(async () => {
	await fixture?.close();
	clock.restore();
	delete process.env.EXECUTIONS_MODE;
});

async function activated(parameters: Record<string, unknown> = {}, simulator?: GraphSimulatorOptions) {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [adele.userPrincipalName, bianca.id], recordOptions: { waitForRecordSeconds: 2 }, ...parameters },
		{ simulator, permissions: ['CallRecords.Read.All', 'User.Read.All'], withoutCertificateCredential: true },
	);
	// The timer starts first, as n8n does: records that ended from now on are the sweep's.
	await fixture.harness.startTrigger();
	await fixture.harness.activate();
	fixture.sim.clearRequests();
	return fixture;
}

const onlySubscription = () => {
	const subscriptions = fixture.sim.subscriptions();
	expect(subscriptions).toHaveLength(1);
	return subscriptions[0] as StoredSubscription;
};
const listRequests = () => fixture.sim.countRequests({ method: 'GET', path: '/v1.0/communications/callRecords' });
const readsOf = (id: string) => fixture.sim.countRequests({ method: 'GET', path: `/v1.0/communications/callRecords/${id}` });
const recordReads = () => fixture.sim.countRequests({ method: 'GET', path: /\/communications\/callRecords\/./ });
/** Every item the timer emitted (sweeps), in order. */
const swept = () => fixture.harness.emitted.flatMap((run) => run[0].map((item) => item.json));
/** The simulator logs a request once its answer is flushed, which can trail the client's receipt by a moment. */
const logFlushed = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Moves the clock and fires the timer once, as n8n's cron would. */
async function tickAfter(minutes: number) {
	clock.advanceMinutes(minutes);
	await fixture.harness.tick();
	await logFlushed();
}

/** A call that ended a minute ago, of these participants (the first organized it); Graph sends no notification for it. */
function callOf(participants = [adele, bianca], extra: Parameters<TriggerFixture['sim']['addCallRecord']>[0] = {}) {
	return fixture.sim.addCallRecord({
		type: 'groupCall',
		modalities: ['audio', 'video'],
		organizer: participants[0],
		participants,
		joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
		...extra,
	});
}

describe('a record whose notification never came', () => {
	it('is emitted once by the sweep, as the item its notification would have given, for a watched user', async () => {
		await activated();
		clock.advanceMinutes(3);
		const record = callOf([bianca, cyril]);
		await tickAfter(5);
		// Not yet: the first sweep comes 15 minutes after the timer started.
		expect(listRequests()).toBe(0);
		await tickAfter(8);
		expect(listRequests()).toBe(1);
		expect(fixture.harness.executions).toHaveLength(0);
		expect(swept()).toEqual([
			{
				event: 'callEnded',
				source: 'callRecords',
				callId: record.id,
				startDateTime: record.startDateTime,
				endDateTime: record.endDateTime,
				participants: [bianca, cyril].map((user) => ({ id: user.id, displayName: user.displayName, kind: 'user', tenantId: TENANT, userPrincipalName: user.userPrincipalName })),
				receivedAt: new Date(Date.now()).toISOString(),
				subscriptionId: null,
				tenantId: TENANT,
				type: 'groupCall',
				modalities: ['audio', 'video'],
				duration: 300,
				organizer: { id: bianca.id, displayName: bianca.displayName, kind: 'user', tenantId: TENANT, userPrincipalName: null },
				joinWebUrl: record.joinWebUrl,
				version: 1,
				changeType: null,
				detectedBy: 'sweep',
				data: expect.objectContaining({ id: record.id, version: 1, type: 'groupCall' }),
			},
		]);
		expect(readsOf(record.id)).toBe(1);
		const list = fixture.sim.findRequests({ method: 'GET', path: '/v1.0/communications/callRecords' })[0];
		expect(list.query.$filter).toBe(`startDateTime ge ${new Date(Date.now() - 4 * 60 * MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
		expect(logsOfThisTest().some((line) => line.level === 'info' && line.message.includes('Recovered 1 call records'))).toBe(true);

		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(swept()).toHaveLength(1);
		expect(readsOf(record.id)).toBe(1);
	});

	it('is emitted once for a whole-tenant trigger, whoever took part, with sessions when asked', async () => {
		await activated({ recordUsers: [], recordOptions: { includeSessions: true, includeRawNotification: true } });
		clock.advanceMinutes(2);
		const record = callOf([cyril], { sessionCount: 2 });
		await tickAfter(14);
		const items = swept();
		expect(items.map((item) => [item.callId, item.detectedBy, item.subscriptionId, item.rawNotification])).toEqual([[record.id, 'sweep', null, null]]);
		expect((items[0].data as { sessions: unknown[] }).sessions).toHaveLength(2);
		await tickAfter(15);
		expect(swept()).toHaveLength(1);
	});
});

describe('a record whose notification came', () => {
	it('before the sweep: the sweep neither reads nor emits it again', async () => {
		await activated();
		clock.advanceMinutes(3);
		const record = callOf([adele]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		expect(fixture.harness.executions).toHaveLength(1);
		expect(fixture.harness.executions[0].items[0].json).toMatchObject({ callId: record.id, detectedBy: 'notification', subscriptionId: onlySubscription().id });
		await tickAfter(13);
		expect(listRequests()).toBe(1);
		expect(readsOf(record.id)).toBe(1);
		expect(swept()).toEqual([]);
	});

	it('after the sweep emitted the record: the notification runs nothing and reads nothing', async () => {
		await activated();
		clock.advanceMinutes(3);
		const record = callOf([adele]);
		await tickAfter(13);
		expect(swept().map((item) => item.callId)).toEqual([record.id]);
		fixture.sim.clearRequests();
		const [result] = await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		expect(result.status).toBe(202);
		expect(fixture.harness.executions).toHaveLength(0);
		await logFlushed();
		expect(recordReads()).toBe(0);
	});
});

describe('records the sweep leaves alone', () => {
	it('a record of another user is not emitted, and is read only once over two sweeps', async () => {
		await activated();
		clock.advanceMinutes(3);
		const theirs = callOf([cyril]);
		await tickAfter(13);
		expect(readsOf(theirs.id)).toBe(1);
		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(readsOf(theirs.id)).toBe(1);
		expect(swept()).toEqual([]);
	});

	it('a record that ended before the timer started is not read or emitted; it was in the memory of an earlier process', async () => {
		await activated();
		const earlier = callOf([adele], { endDateTime: new Date(Date.now() - 2 * MINUTE).toISOString(), lastModifiedDateTime: new Date(Date.now() - MINUTE).toISOString() });
		await tickAfter(16);
		expect(listRequests()).toBe(1);
		expect(readsOf(earlier.id)).toBe(0);
		expect(swept()).toEqual([]);
	});

	it('a record modified less than 10 minutes ago waits for the next sweep', async () => {
		await activated();
		clock.advanceMinutes(8);
		const fresh = callOf([adele]);
		await tickAfter(8);
		expect(listRequests()).toBe(1);
		expect(readsOf(fresh.id)).toBe(0);
		expect(swept()).toEqual([]);
		await tickAfter(15);
		expect(swept().map((item) => item.callId)).toEqual([fresh.id]);
	});

	it('a listed ID that is not a call-record ID is neither read nor emitted, and a forged notification brings nothing in', async () => {
		await activated({ recordUsers: [] });
		clock.advanceMinutes(3);
		const hostile = callOf([adele], { id: '..%2F..%2Fusers' });
		const forged = 'deadbeef-0000-4000-8000-000000000000';
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), forged)]);
		expect(fixture.harness.executions).toHaveLength(0);
		fixture.sim.clearRequests();
		await tickAfter(13);
		expect(listRequests()).toBe(1);
		expect(recordReads()).toBe(0);
		expect(swept()).toEqual([]);
		expect(hostile.id).toContain('%2F');
	});
});

describe('at scale', () => {
	it('follows the list through every page, and reads at most 4 records at once', async () => {
		await activated({ recordUsers: [] }, { callRecordReadLatencyMs: 40 });
		clock.advanceMinutes(3);
		const records = Array.from({ length: 75 }, () => callOf([adele]));
		await tickAfter(13);
		// 60 records, then the 15 more behind the nextLink.
		expect(fixture.sim.findRequests({ method: 'GET', path: '/v1.0/communications/callRecords' }).map((r) => Boolean(r.query.$skiptoken))).toEqual([false, true]);
		expect(fixture.sim.peakConcurrentRecordReads).toBe(4);
		expect(swept().map((item) => item.callId).sort()).toEqual(records.map((record) => record.id).sort());
		expect(fixture.harness.emitted).toHaveLength(1);
	});

	it('shares the 4 reads at a time with the notifications the trigger is handling meanwhile', async () => {
		await activated({ recordUsers: [] }, { callRecordReadLatencyMs: 60 });
		clock.advanceMinutes(3);
		const missed = Array.from({ length: 16 }, () => callOf([adele]));
		clock.advanceMinutes(12);
		const notified = Array.from({ length: 12 }, () => callOf([bianca]));
		const subscription = onlySubscription();
		await Promise.all([
			tickAfter(1),
			fixture.deliver(notified.map((record) => fixture.sim.callRecordNotificationFor(subscription, record.id))),
		]);
		expect(fixture.sim.peakConcurrentRecordReads).toBe(4);
		expect(swept().map((item) => item.callId).sort()).toEqual(missed.map((record) => record.id).sort());
		const ran = fixture.harness.executions.flatMap((execution) => execution.items.map((item) => item.json.callId));
		expect(ran.sort()).toEqual(notified.map((record) => record.id).sort());
	});

	it('reads at most 200 records in one sweep, says so, and reads the rest at the next', async () => {
		await activated({ recordUsers: [] });
		clock.advanceMinutes(3);
		const records = Array.from({ length: 230 }, () => callOf([adele]));
		await tickAfter(13);
		expect(swept()).toHaveLength(200);
		expect(logsOfThisTest().some((line) => line.level === 'warn' && /230 call records may have missed their notification; reading 200 now/.test(line.message))).toBe(true);
		await tickAfter(15);
		expect(swept().map((item) => item.callId).sort()).toEqual(records.map((record) => record.id).sort());
	});
});

describe('when Graph fails', () => {
	it.each([
		['500', { status: 500 }],
		['429', { status: 429, retryAfterSeconds: 0 }],
	])('a list answered %s logs a warning, renewal still happens, and the next sweep recovers', async (_, fault) => {
		await activated({ recordOptions: { lifetimeMinutes: 60, waitForRecordSeconds: 2 } });
		clock.advanceMinutes(3);
		const record = callOf([adele]);
		fixture.sim.injectFault({ method: 'GET', pathPattern: /\/communications\/callRecords$/, times: 2, ...fault });
		// Half of the 60-minute lifetime has passed: renewal and the sweep are both due.
		await tickAfter(28);
		expect(fixture.sim.countRequests({ method: 'PATCH', path: `/v1.0/subscriptions/${onlySubscription().id}` })).toBe(1);
		expect(swept()).toEqual([]);
		const warning = logsOfThisTest().find((line) => line.message.includes('Could not list recent call records'));
		expect(warning?.level).toBe('warn');
		expect(warning?.message).toContain(fault.status === 500 ? '500' : '429');
		await tickAfter(15);
		expect(swept().map((item) => item.callId)).toEqual([record.id]);
	});

	it('a read that fails is tried again at the next sweep', async () => {
		await activated();
		clock.advanceMinutes(3);
		const record = callOf([adele]);
		fixture.sim.injectFault({ method: 'GET', pathPattern: `/communications/callRecords/${record.id}`, status: 503, times: 2 });
		await tickAfter(13);
		expect(swept()).toEqual([]);
		expect(logsOfThisTest().some((line) => line.level === 'warn' && line.message.includes(`Could not read 1 call records to recover missed notifications; trying again at the next sweep. First: ${record.id}`))).toBe(true);
		await tickAfter(15);
		expect(swept().map((item) => item.callId)).toEqual([record.id]);
	});
});

describe('no sweep', () => {
	/** Lists and emitted items of a trigger over two sweeps, a record of a watched user having missed its notification. */
	async function sweepsOf(parameters: Record<string, unknown>, queueMode: boolean) {
		if (queueMode) process.env.EXECUTIONS_MODE = 'queue';
		await activated(parameters);
		clock.advanceMinutes(3);
		callOf([adele]);
		await tickAfter(13);
		await tickAfter(15);
		return { lists: listRequests(), emitted: swept().length };
	}

	it.each([
		['the option off', { recordOptions: { recoverMissedCallRecords: false, waitForRecordSeconds: 2 } }, false],
		['EXECUTIONS_MODE=queue', {}, true],
		['only Call Record Updated chosen (the sweep recovers first records)', { recordEvents: ['callRecordUpdated'] }, false],
	])('with %s: no list request at all, where the same trigger with the defaults sweeps', async (_, parameters, queueMode) => {
		expect(await sweepsOf({}, false)).toEqual({ lists: 2, emitted: 1 });
		await fixture.close();
		expect(await sweepsOf(parameters, queueMode)).toEqual({ lists: 0, emitted: 0 });
	});

	it('in queue mode it says why, once, at info level', async () => {
		await sweepsOf({}, true);
		const said = logsOfThisTest().filter((line) => line.message.includes('not recovered in queue mode'));
		expect(said.map((line) => line.level)).toEqual(['info']);
	});
});
