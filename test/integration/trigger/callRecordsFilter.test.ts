import { CANARY_SWEEPS_IN_A_ROW, filterCanaryMessage } from '../../../lib/callRecords/filterCanary';
import { useFakeDate } from '../../support/fakeClock';
import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { ParticipantsFilterBehaviour, StoredCallRecord } from '../../simulator';

/**
 * Call Records, the Filter choice, against both ways Graph may treat the participants filter of a
 * subscription (simulator option `callRecordsParticipantsFilter`): honoured as documented, or accepted and
 * matching nothing. Graph's notifications are what the simulator says Graph sends for each record
 * (`callRecordNotificationsFor`); the renewal timer's ticks are driven by hand, the clock is the faked Date.
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

const parametersFor = (recordFilter: 'inGraph' | 'afterReading' | undefined, users: User[] = [adele]) => ({
	source: 'callRecords',
	recordUsers: users.map((user) => user.userPrincipalName),
	...(recordFilter ? { recordFilter } : {}),
	recordOptions: { waitForRecordSeconds: 0 },
});

async function activated(recordFilter: 'inGraph' | 'afterReading' | undefined, behaviour: ParticipantsFilterBehaviour, users: User[] = [adele]) {
	fixture = await startTriggerFixture(parametersFor(recordFilter, users), {
		simulator: { callRecordsParticipantsFilter: behaviour },
		permissions: ['CallRecords.Read.All', 'User.Read.All'],
		withoutCertificateCredential: true,
	});
	await fixture.harness.startTrigger();
	await fixture.harness.activate();
	fixture.sim.clearRequests();
	return fixture;
}

/** The simulator logs a request once its answer is flushed, which can trail the client's receipt by a moment. */
const logFlushed = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Moves the clock, fires the timer once, as n8n's cron would, and waits for the executions it started. */
async function tickAfter(minutes: number) {
	clock.advanceMinutes(minutes);
	await fixture.harness.tick();
	await fixture.harness.settled();
	await logFlushed();
}

/** A call of these participants that has just ended: Graph has its record, and sends what it sends for it. */
async function callEnds(participants: User[], notify = true): Promise<StoredCallRecord> {
	const record = fixture.sim.addCallRecord({
		participants,
		organizer: participants[0],
		endDateTime: new Date(Date.now() - MINUTE).toISOString(),
		startDateTime: new Date(Date.now() - 6 * MINUTE).toISOString(),
	});
	const notifications = fixture.sim.callRecordNotificationsFor(record);
	if (notify && notifications.length > 0) await fixture.deliver(notifications);
	return record;
}

const ranByNotification = () => fixture.harness.runs.flatMap((run) => run.items.map((item) => item.json.callId));
const ranBySweep = () => fixture.harness.emitted.flatMap((run) => run[0].map((item) => item.json.callId));
const failureMessages = () => fixture.harness.failures.map((failure) => failure.message);
const canaryWarnings = () => logsOfThisTest().filter((line) => line.level === 'warn' && line.message.includes('sent no notification'));

describe('Filter "In Graph"', () => {
	it('Graph honours the filter: each call of a watched user runs by its notification; sweeps hand nothing on and the canary stays silent', async () => {
		await activated('inGraph', 'honoured');
		const [subscription] = fixture.sim.subscriptions();
		expect(subscription.resource).toBe(`communications/callRecords?$filter=participants/any(p:p/id in ('${adele.id}'))`);
		const records: StoredCallRecord[] = [];
		for (let sweep = 0; sweep < CANARY_SWEEPS_IN_A_ROW + 1; sweep++) {
			records.push(await callEnds([adele, bianca]));
			await callEnds([cyril]);
			await tickAfter(15);
		}
		expect(ranByNotification()).toEqual(records.map((record) => record.id));
		expect(fixture.harness.emittedInput).toEqual([]);
		expect(fixture.harness.failures).toEqual([]);
	});

	it(`Graph matches nothing: no notification, each sweep runs the missed calls once, and the ${CANARY_SWEEPS_IN_A_ROW}rd sweep in a row records one failed execution naming the cause and the fix`, async () => {
		await activated('inGraph', 'matchesNothing');
		expect(fixture.sim.subscriptions()).toHaveLength(1);
		const records: StoredCallRecord[] = [];
		for (let sweep = 1; sweep < CANARY_SWEEPS_IN_A_ROW; sweep++) {
			records.push(await callEnds([adele]));
			await tickAfter(15);
		}
		expect(ranBySweep()).toEqual(records.map((record) => record.id));
		expect(fixture.harness.failures).toEqual([]);

		records.push(await callEnds([adele, cyril]));
		await tickAfter(15);
		expect(fixture.harness.executions).toEqual([]);
		expect(ranBySweep()).toEqual(records.map((record) => record.id));
		expect(failureMessages()).toEqual([filterCanaryMessage(3, 3)]);
		expect(failureMessages()[0]).toBe(
			'Microsoft Graph sent no notification for 3 call record(s) of the watched users found by the last 3 sweeps for missed records. ' +
				"They ran from the sweep, later than a notification would have brought them. Likely cause: Graph no longer matches the subscription's participants filter (it rests on a property Graph deprecated), " +
				'or an incident in Graph\'s call-record notifications. Fix: set Filter to "After Reading" (one subscription for the whole tenant; each record is read and kept for the watched users).',
		);
		// A failed execution, not emitError (which would make n8n deactivate and re-activate the workflow).
		expect(fixture.harness.emittedErrors).toEqual([]);
		expect(canaryWarnings()).toHaveLength(1);

		// The streak goes on: not again within the hour, though the records still run.
		records.push(await callEnds([adele]));
		await tickAfter(15);
		expect(ranBySweep()).toEqual(records.map((record) => record.id));
		expect(fixture.harness.failures).toHaveLength(1);
	});

	it('a notification that arrives resets the streak: the canary needs as many sweeps in a row again', async () => {
		await activated('inGraph', 'honoured');
		// A delivery incident: Graph matches the filter but sends nothing for these.
		await callEnds([adele], false);
		await tickAfter(15);
		await callEnds([adele], false);
		await tickAfter(15);
		const notified = await callEnds([adele]);
		await callEnds([adele], false);
		await tickAfter(15);
		await callEnds([adele], false);
		await tickAfter(15);
		expect(ranByNotification()).toEqual([notified.id]);
		expect(ranBySweep()).toHaveLength(4);
		expect(fixture.harness.failures).toEqual([]);
		await callEnds([adele], false);
		await tickAfter(15);
		expect(failureMessages()).toEqual([filterCanaryMessage(3, 3)]);
	});

	it('stays silent in queue mode, where the notifications run on other processes', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		await activated('inGraph', 'matchesNothing');
		for (let sweep = 0; sweep < CANARY_SWEEPS_IN_A_ROW + 1; sweep++) {
			await callEnds([adele]);
			await tickAfter(15);
		}
		expect(ranBySweep()).toHaveLength(CANARY_SWEEPS_IN_A_ROW + 1);
		expect(fixture.harness.failures).toEqual([]);
	});
});

describe.each<ParticipantsFilterBehaviour>(['honoured', 'matchesNothing'])('Filter "After Reading", Graph\'s participants filter %s', (behaviour) => {
	it('one subscription for the whole tenant; each record is read, and only the watched users\' calls run, by notification; no canary', async () => {
		await activated('afterReading', behaviour, [adele, bianca]);
		expect(fixture.sim.subscriptions().map((subscription) => subscription.resource)).toEqual(['communications/callRecords']);
		const watched: StoredCallRecord[] = [];
		const others: StoredCallRecord[] = [];
		for (let sweep = 0; sweep < CANARY_SWEEPS_IN_A_ROW + 1; sweep++) {
			watched.push(await callEnds([adele, cyril]));
			// Cyril organized it; Bianca only took part.
			watched.push(await callEnds([cyril, bianca]));
			others.push(await callEnds([cyril]));
			await tickAfter(15);
		}
		expect(ranByNotification()).toEqual(watched.map((record) => record.id));
		expect(fixture.harness.executions.filter((execution) => execution.items.length === 0)).toHaveLength(others.length);
		// Every record was read: that is what this filter costs.
		for (const record of [...watched, ...others]) expect(fixture.sim.countRequests({ method: 'GET', path: `/v1.0/communications/callRecords/${record.id}` })).toBe(1);
		expect(fixture.harness.emittedInput).toEqual([]);
		expect(fixture.harness.failures).toEqual([]);
	});

	it('a call only an unwatched user organized does not run; left out without being recorded, it runs once that user is watched and Graph delivers it again', async () => {
		await activated('afterReading', behaviour);
		const record = fixture.sim.addCallRecord({ participants: [cyril], organizer: adele });
		const [notification] = fixture.sim.callRecordNotificationsFor(record);
		await fixture.deliver([notification]);
		expect(fixture.harness.executions.map((execution) => execution.items.length)).toEqual([0]);
		expect(fixture.harness.failures).toEqual([]);

		fixture.harness.setParameters(parametersFor('afterReading', [adele, cyril]));
		await fixture.harness.activate('update');
		const [subscription] = fixture.sim.subscriptions();
		await fixture.deliver([fixture.sim.callRecordNotificationFor(subscription, record.id)]);
		expect(ranByNotification()).toEqual([record.id]);
	});
});

describe('changing the Filter', () => {
	it('from "In Graph" to "After Reading": the next activation replaces the filtered subscription by one for the tenant, and calls arrive by notification again', async () => {
		await activated('inGraph', 'matchesNothing');
		const [filtered] = fixture.sim.subscriptions();
		fixture.harness.setParameters(parametersFor('afterReading'));
		await fixture.harness.activate('update');
		expect(fixture.sim.subscriptions().map((subscription) => subscription.resource)).toEqual(['communications/callRecords']);
		expect(fixture.sim.getSubscription(filtered.id)?.state).toBe('deleted');
		const record = await callEnds([adele]);
		expect(ranByNotification()).toEqual([record.id]);
	});

	it('a workflow saved before the choice keeps its subscription when "In Graph" is set explicitly (same settings key: nothing made again)', async () => {
		await activated(undefined, 'honoured');
		const [before] = fixture.sim.subscriptions();
		fixture.harness.setParameters(parametersFor('inGraph'));
		await fixture.harness.activate('update');
		expect(fixture.sim.countRequests({ method: 'POST', path: '/v1.0/subscriptions' })).toBe(0);
		expect(fixture.sim.subscriptions().map((subscription) => subscription.id)).toEqual([before.id]);
	});
});
