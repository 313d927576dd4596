import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { GraphSimulatorOptions, StoredCallRecord, StoredSubscription } from '../../simulator';

/**
 * Call Records: the renewal timer's sweep for records whose notification never came (Graph has had
 * incidents in which call-record notifications stopped for hours), end to end through n8n-core's contexts
 * against the Graph simulator. The sweep lists and emits record IDs; the execution emit() starts reads each
 * record and asks n8n's store (the harness's processed-data table, which outlives fixture.restart()) what
 * already ran. The simulator's clock is the (faked) Date, frozen between moves; the timer's ticks are
 * driven by hand; sleeps and HTTPS run in real time.
 */
const logsOfThisTest = logsOfEachTest();

type User = (typeof USERS)[number];
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
		{ source: 'callRecords', recordUsers: [adele.userPrincipalName], recordOptions: { waitForRecordSeconds: 0 }, ...parameters },
		{ simulator, permissions: ['CallRecords.Read.All', 'User.Read.All'], withoutCertificateCredential: true },
	);
	// The timer starts first, as n8n does; its first sweep is 60 s later.
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
const LIST_PATH = '/v1.0/communications/callRecords';
const lists = () => fixture.sim.findRequests({ method: 'GET', path: LIST_PATH });
const listRequests = () => lists().length;
const readsOf = (id: string) => fixture.sim.countRequests({ method: 'GET', path: `${LIST_PATH}/${id}` });
const recordReads = () => fixture.sim.countRequests({ method: 'GET', path: /\/communications\/callRecords\/./ });
/** The record IDs each emit() handed on, per emit. */
const emits = () => fixture.harness.emittedInput.map((data) => data[0].map((item) => (item.json._teamsCallDelivery as { id: string }).id));
const handedOn = () => emits().flat();
/** What the executions emit() started output: the items the workflow went on with. */
const swept = () => fixture.harness.emitted.flatMap((run) => run[0].map((item) => item.json));
const sweptIds = () => swept().map((item) => item.callId);
/** What the executions the webhook started output. */
const ranByNotification = () => fixture.harness.runs.flatMap((run) => run.items.map((item) => item.json));
/** The simulator logs a request once its answer is flushed, which can trail the client's receipt by a moment. */
const logFlushed = () => new Promise((resolve) => setTimeout(resolve, 50));
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * MINUTE).toISOString();
const wholeSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Moves the clock, fires the timer once, as n8n's cron would, and waits for the executions it started. */
async function tickAfter(minutes: number) {
	clock.advanceMinutes(minutes);
	await fixture.harness.tick();
	await fixture.harness.settled();
	await logFlushed();
}

/**
 * A call of these participants (the first organized it) that ended `endedMinutesAgo` ago and that Graph last
 * changed a minute after: by the first sweep (a minute from now) it is past the 10 minutes' grace.
 */
function pastCall(participants: User[] = [adele], endedMinutesAgo = 12, extra: Parameters<TriggerFixture['sim']['addCallRecord']>[0] = {}) {
	return fixture.sim.addCallRecord({
		type: 'groupCall',
		modalities: ['audio', 'video'],
		organizer: participants[0],
		participants,
		joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
		endDateTime: minutesAgo(endedMinutesAgo),
		startDateTime: minutesAgo(endedMinutesAgo + 5),
		lastModifiedDateTime: minutesAgo(endedMinutesAgo - 1),
		...extra,
	});
}

/** The item a record of pastCall() gives, found by a notification or by the sweep. */
function itemOf(
	record: StoredCallRecord,
	participants: User[],
	origin: { detectedBy: 'sweep' | 'notification'; subscriptionId: string | null; changeType: string | null; receivedAt: string },
) {
	return {
		event: 'callEnded',
		source: 'callRecords',
		callId: record.id,
		startDateTime: record.startDateTime,
		endDateTime: record.endDateTime,
		participants: participants.map((user) => ({ id: user.id, displayName: user.displayName, kind: 'user', tenantId: TENANT, userPrincipalName: user.userPrincipalName })),
		receivedAt: origin.receivedAt,
		subscriptionId: origin.subscriptionId,
		tenantId: TENANT,
		type: 'groupCall',
		modalities: ['audio', 'video'],
		duration: 300,
		organizer: { id: participants[0].id, displayName: participants[0].displayName, kind: 'user', tenantId: TENANT, userPrincipalName: null },
		joinWebUrl: record.joinWebUrl,
		version: 1,
		changeType: origin.changeType,
		detectedBy: origin.detectedBy,
		data: expect.objectContaining({ id: record.id, version: 1, type: 'groupCall', participants_v2: expect.any(Array) }),
	};
}

describe('a record whose notification never came', () => {
	it('is emitted once, 60 s after the timer started, as the item its notification would have given; not again at the next sweep', async () => {
		await activated();
		const record = pastCall([adele, cyril]);
		await tickAfter(0.9);
		// Not yet: the first sweep is 60 s after the timer started.
		expect(listRequests()).toBe(0);
		await tickAfter(0.1);
		expect(listRequests()).toBe(1);
		expect(emits()).toEqual([[record.id]]);
		expect(fixture.harness.executions).toEqual([]);
		expect(swept()).toEqual([itemOf(record, [adele, cyril], { detectedBy: 'sweep', subscriptionId: null, changeType: null, receivedAt: new Date().toISOString() })]);
		expect(readsOf(record.id)).toBe(1);
		expect(logsOfThisTest().some((line) => line.level === 'info' && line.message.includes('Recovered 1 call record(s) whose notification never came'))).toBe(true);

		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(emits()).toHaveLength(1);
		expect(swept()).toHaveLength(1);
		expect(readsOf(record.id)).toBe(1);
	});
});

describe('a record whose notification came: it runs once overall, read once (one GET per record in this process)', () => {
	it('before the sweep: the notification runs it; the sweep lists it but hands nothing on', async () => {
		await activated();
		const record = pastCall([adele, bianca]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		expect(ranByNotification()).toEqual([
			itemOf(record, [adele, bianca], { detectedBy: 'notification', subscriptionId: onlySubscription().id, changeType: 'created', receivedAt: new Date().toISOString() }),
		]);
		await tickAfter(1);
		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(fixture.harness.emittedInput).toEqual([]);
		expect(readsOf(record.id)).toBe(1);
	});

	it('after the sweep ran it: the notification\'s execution reads nothing and outputs nothing', async () => {
		await activated();
		const record = pastCall();
		await tickAfter(1);
		expect(sweptIds()).toEqual([record.id]);
		const [answer] = await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		expect(answer.status).toBe(202);
		expect(fixture.harness.executions.map((execution) => [execution.admitted.length, execution.items.length])).toEqual([[1, 0]]);
		await logFlushed();
		expect(readsOf(record.id)).toBe(1);
		await tickAfter(15);
		expect(emits()).toHaveLength(1);
		expect(readsOf(record.id)).toBe(1);
	});

	it('while the sweep\'s execution is reading it: the two share the one read, and it runs once', async () => {
		await activated({}, { callRecordReadLatencyMs: 400 });
		const record = pastCall();
		clock.advanceMinutes(1);
		// The tick returns once emit() was called: the execution it started is reading the record now.
		await fixture.harness.tick();
		expect(emits()).toEqual([[record.id]]);
		await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		await fixture.harness.settled();
		await logFlushed();
		expect(fixture.harness.executions).toHaveLength(1);
		expect([...sweptIds(), ...ranByNotification().map((item) => item.callId)]).toEqual([record.id]);
		expect(readsOf(record.id)).toBe(1);
	});
});

describe('after a restart (fresh process memory, the same n8n database)', () => {
	it('a record that ended while n8n was down, whose notification never came, runs once at the first sweep 60 s after the timer started again', async () => {
		await activated();
		await tickAfter(1);
		expect(listRequests()).toBe(1);
		fixture.restart();
		// n8n is down for half an hour; the call ended 20 minutes ago, while no timer ran.
		clock.advanceMinutes(30);
		const record = pastCall([adele], 20);
		await fixture.harness.startTrigger();
		fixture.sim.clearRequests();
		await tickAfter(0.9);
		expect(listRequests()).toBe(0);
		await tickAfter(0.1);
		expect(listRequests()).toBe(1);
		expect(swept()).toEqual([itemOf(record, [adele], { detectedBy: 'sweep', subscriptionId: null, changeType: null, receivedAt: new Date().toISOString() })]);
		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(emits()).toHaveLength(1);
		expect(readsOf(record.id)).toBe(1);
	});

	it.each([
		['its notification', 'notification'],
		['the sweep', 'sweep'],
	])('a record run before the restart by %s does not run again: the first sweep after it hands it on and reads it once more, n8n\'s store drops it, later sweeps leave it alone', async (_, ranBy) => {
		await activated();
		const record = pastCall();
		if (ranBy === 'notification') await fixture.deliver([fixture.sim.callRecordNotificationFor(onlySubscription(), record.id)]);
		else await tickAfter(1);
		expect([...sweptIds(), ...ranByNotification().map((item) => item.callId)]).toEqual([record.id]);
		expect(readsOf(record.id)).toBe(1);
		const emitsBefore = emits().length;
		const listsBefore = listRequests();

		fixture.restart();
		clock.advanceMinutes(5);
		await fixture.harness.startTrigger();
		await tickAfter(1);
		// This process did not know it: handed on, read again, and dropped by n8n's store.
		expect(emits().slice(emitsBefore)).toEqual([[record.id]]);
		expect(fixture.harness.emitted.slice(emitsBefore)).toEqual([[[]]]);
		expect(readsOf(record.id)).toBe(2);
		// Nor after the hour in which a handed-on record may be handed on again: it is known to have run.
		await tickAfter(15);
		await tickAfter(46);
		expect(listRequests()).toBe(listsBefore + 3);
		expect(emits().slice(emitsBefore)).toHaveLength(1);
		expect(readsOf(record.id)).toBe(2);
		expect([...sweptIds(), ...ranByNotification().map((item) => item.callId)]).toEqual([record.id]);
	});
});

describe('queue mode', () => {
	it('with EXECUTIONS_MODE=queue the timer sweeps too: a missed record runs once', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		await activated();
		const record = pastCall();
		await tickAfter(1);
		expect(listRequests()).toBe(1);
		expect(sweptIds()).toEqual([record.id]);
		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(sweptIds()).toEqual([record.id]);
	});
});

describe('listing', () => {
	it('lists per watched user with the participants_v2 filter and no other option, through every page, keeping the last 4 hours by start', async () => {
		await activated({ recordUsers: [adele.userPrincipalName, bianca.id] });
		// 60 of Adele's calls from 5 hours ago fill her first page: listed, and left alone.
		const old = Array.from({ length: 60 }, () => pastCall([adele], 5 * 60));
		const justInside = pastCall([adele], 3 * 60 + 50);
		const both = pastCall([adele, bianca]);
		const biancas = pastCall([bianca, cyril]);
		await tickAfter(1);
		const requests = lists();
		const filters = requests.map((request) => request.query.$filter ?? null);
		expect(filters).toEqual([`participants_v2/any(p:p/id eq '${adele.id}')`, null, `participants_v2/any(p:p/id eq '${bianca.id}')`]);
		// The second is Adele's nextLink.
		expect(Object.keys(requests[0].query)).toEqual(['$filter']);
		expect(Object.keys(requests[1].query)).toEqual(['$skiptoken']);
		expect(Object.keys(requests[2].query)).toEqual(['$filter']);
		expect(sweptIds().sort()).toEqual([justInside.id, both.id, biancas.id].sort());
		expect(old.map((record) => readsOf(record.id))).toEqual(old.map(() => 0));
	});

	it('lists the whole tenant by startDateTime ge now − 4 h, whoever took part, with sessions when asked', async () => {
		await activated({ recordUsers: [], recordOptions: { waitForRecordSeconds: 0, includeSessions: true } });
		const record = pastCall([cyril], 12, { sessionCount: 2 });
		await tickAfter(1);
		expect(lists().map((request) => request.query)).toEqual([{ $filter: `startDateTime ge ${wholeSeconds(Date.now() - 4 * 60 * MINUTE)}` }]);
		expect(swept().map((item) => [item.callId, item.detectedBy, item.subscriptionId])).toEqual([[record.id, 'sweep', null]]);
		expect((swept()[0].data as { sessions: unknown[] }).sessions).toHaveLength(2);
	});

	it('never emits or reads a record of an unwatched user, nor one the watched user only organized without taking part', async () => {
		await activated();
		const theirs = pastCall([cyril, bianca]);
		const organizedOnly = pastCall([cyril], 12, { organizer: adele });
		const adeles = pastCall([adele]);
		await tickAfter(1);
		await tickAfter(15);
		expect(listRequests()).toBe(2);
		expect(handedOn()).toEqual([adeles.id]);
		expect(readsOf(theirs.id) + readsOf(organizedOnly.id)).toBe(0);
	});

	it('spaces list requests 500 ms apart (Graph allows 40 per 20 s): page after page and user after user', async () => {
		// Real time for this test, so that the request log's arrival times are real: the timer starts 90 s ago.
		clock.advanceMinutes(-1.5);
		await activated({ recordUsers: [adele.id, bianca.id] });
		for (let n = 0; n < 150; n++) pastCall([adele], 5 * 60);
		const record = pastCall([bianca]);
		clock.restore();
		await fixture.harness.tick();
		await fixture.harness.settled();
		await logFlushed();
		const times = lists().map((request) => request.time);
		// Adele's 3 pages, then Bianca's.
		expect(times).toHaveLength(4);
		const gaps = times.slice(1).map((time, index) => time - times[index]);
		// At least 500 ms (a millisecond of timer rounding allowed): no more than 40 in any 20 s.
		expect(Math.min(...gaps)).toBeGreaterThanOrEqual(499);
		expect(sweptIds()).toEqual([record.id]);
	});
});

describe('which records a sweep hands on', () => {
	it('a record Graph changed less than 10 minutes ago waits for a later sweep; one changed exactly 10 minutes ago does not', async () => {
		await activated();
		// The first sweep is a minute from now.
		const fresh = pastCall([adele], 10, { lastModifiedDateTime: new Date(Date.now() + MINUTE - 10 * MINUTE + 1000).toISOString() });
		const due = pastCall([adele], 10, { lastModifiedDateTime: new Date(Date.now() + MINUTE - 10 * MINUTE).toISOString() });
		await tickAfter(1);
		expect(handedOn()).toEqual([due.id]);
		expect(readsOf(fresh.id)).toBe(0);
		await tickAfter(15);
		expect(handedOn()).toEqual([due.id, fresh.id]);
		expect(sweptIds()).toEqual([due.id, fresh.id]);
	});

	it('a listed ID that is not a call-record ID, or a record without an end, is neither handed on nor read', async () => {
		await activated({ recordUsers: [] });
		const hostile = [pastCall([adele], 12, { id: '..%2F..%2Fusers' }), pastCall([adele], 12, { id: 'a'.repeat(129) })];
		const open = pastCall([adele], 12, { extra: { endDateTime: null } });
		const valid = pastCall([adele]);
		await tickAfter(1);
		expect(listRequests()).toBe(1);
		expect(handedOn()).toEqual([valid.id]);
		expect(recordReads()).toBe(1);
		expect(readsOf(open.id)).toBe(0);
		expect(hostile.map((record) => record.id.length)).toEqual([15, 129]);
	});

	it('hands on at most 200 in one sweep, says so, and the rest at the next; each runs once', async () => {
		await activated({ recordUsers: [] });
		const records = Array.from({ length: 230 }, () => pastCall([adele]));
		await tickAfter(1);
		expect(emits().map((ids) => ids.length)).toEqual([200]);
		expect(swept()).toHaveLength(200);
		expect(
			logsOfThisTest().some((line) => line.level === 'warn' && line.message.includes('230 call records may have missed their notification; handing on 200 now and the rest at the next sweep')),
		).toBe(true);
		await tickAfter(15);
		expect(emits().map((ids) => ids.length)).toEqual([200, 30]);
		expect(sweptIds().sort()).toEqual(records.map((record) => record.id).sort());
		expect(recordReads()).toBe(230);
	});

	it.each([
		['404', 404, 1, 'Microsoft Graph listed this call record but answered 404 for all of Wait for New Records'],
		['500', 500, 4, 'Microsoft Graph kept failing for all of Wait for New Records'],
	])('a record whose read Graph answers %s is a failed execution, handed on again once an hour has passed, and then runs once', async (_, status, times, cause) => {
		await activated();
		const record = pastCall();
		fixture.sim.injectFault({ method: 'GET', pathPattern: `${LIST_PATH}/${record.id}`, status, times });
		await tickAfter(1);
		expect(emits()).toEqual([[record.id]]);
		expect(swept()).toEqual([]);
		expect(fixture.harness.failures.map((failure) => failure.message)).toEqual([expect.stringContaining(`Could not read call record ${record.id} from Microsoft Graph: ${cause}`)]);
		// 15 and 59.9 minutes after it was handed on: not again.
		await tickAfter(15);
		await tickAfter(44.9);
		expect(listRequests()).toBe(3);
		expect(emits()).toHaveLength(1);
		await tickAfter(15);
		expect(emits()).toEqual([[record.id], [record.id]]);
		expect(sweptIds()).toEqual([record.id]);
		expect(readsOf(record.id)).toBe(times + 1);
	});

	it('reads swept records within the trigger\'s 4 reads at a time, shared with the notifications it handles meanwhile', async () => {
		await activated({ recordUsers: [] }, { callRecordReadLatencyMs: 100 });
		const missed = Array.from({ length: 16 }, () => pastCall([adele]));
		const notified = Array.from({ length: 12 }, () => pastCall([bianca], 12, { lastModifiedDateTime: minutesAgo(0) }));
		clock.advanceMinutes(1);
		await fixture.harness.tick();
		// The sweep's execution is reading its 16 records (400 ms at 4 at a time) while the notifications come.
		const subscription = onlySubscription();
		await fixture.deliver(notified.map((record) => fixture.sim.callRecordNotificationFor(subscription, record.id)));
		await fixture.harness.settled();
		expect(fixture.sim.peakConcurrentRecordReads).toBe(4);
		expect(sweptIds().sort()).toEqual(missed.map((record) => record.id).sort());
		expect(ranByNotification().map((item) => item.callId).sort()).toEqual(notified.map((record) => record.id).sort());
	});
});

describe('which triggers sweep', () => {
	it.each([
		['the option off', { recordOptions: { recoverMissedCallRecords: false, waitForRecordSeconds: 0 } }],
		['only Call Record Updated chosen', { recordEvents: ['callRecordUpdated'] }],
	])('with %s: no list request, nothing emitted', async (_, parameters) => {
		await activated(parameters);
		pastCall();
		await tickAfter(1);
		await tickAfter(15);
		expect(listRequests()).toBe(0);
		expect(fixture.harness.emittedInput).toEqual([]);
	});

	it('with Call Ended and Call Record Updated chosen: it sweeps, and a missed record is its callEnded item', async () => {
		await activated({ recordEvents: ['callEnded', 'callRecordUpdated'] });
		const record = pastCall();
		await tickAfter(1);
		expect(swept().map((item) => [item.callId, item.event])).toEqual([[record.id, 'callEnded']]);
	});
});
