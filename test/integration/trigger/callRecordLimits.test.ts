import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { skipCallRecordHolds } from '../../support/skipCallRecordHolds';
import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/**
 * Graph's call-record limits (1,500 requests per 20 s per app and tenant, 40 per record, 40 for listing), with
 * the simulator answering 429 past them as Graph does: the trigger's reads stay under them.
 */
const logsOfThisTest = logsOfEachTest();
const [adele, bianca] = USERS;
let fixture: TriggerFixture;
afterEach(async () => fixture?.close());

async function callRecords(recordOptions: Record<string, unknown>) {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [], recordOptions },
		{ permissions: ['CallRecords.Read.All', 'User.Read.All'], withoutCertificateCredential: true, simulator: { throttleCallRecords: true } },
	);
	await fixture.harness.activate();
	const subscriptions = fixture.sim.subscriptions();
	expect(subscriptions).toHaveLength(1);
	return subscriptions[0] as StoredSubscription;
}

const holds = () => logsOfThisTest().filter((line) => line.message.startsWith('Holding back call-record requests'));

it('a burst of 1,000 distinct call records with their sessions (2,000 reads): no 429, each record one item, one hold logged', async () => {
	const sub = await callRecords({ includeSessions: true, waitForRecordSeconds: 4 });
	const records = Array.from({ length: 1000 }, () =>
		fixture.sim.addCallRecord({ type: 'peerToPeer', modalities: ['audio'], organizer: adele, participants: [adele, bianca] }),
	);
	// The clock skips the pace's hold (Date only, both sides read it) rather than waiting 20 s in real time.
	const skipped = skipCallRecordHolds();
	const started = Date.now();
	let elapsedMs: number;
	try {
		await fixture.deliver(records.map((record) => fixture.sim.callRecordNotificationFor(sub, record.id)));
		elapsedMs = Date.now() - started;
	} finally {
		skipped.stop();
	}

	expect(fixture.sim.countRequests({ status: 429 })).toBe(0);
	expect(fixture.sim.countRequests({ method: 'GET', path: /\/communications\/callRecords\// })).toBe(2000);
	const items = fixture.harness.runs.flatMap((execution) => execution.items.map(({ json }) => json.callId));
	expect(items.sort()).toEqual(records.map((record) => record.id).sort());
	expect(holds()).toHaveLength(1);
	expect(holds()[0]!.message).toMatch(
		/^Holding back call-record requests for \d+ s: Microsoft Graph allows 1,500 call-record requests per 20 s per app and tenant$/,
	);
	// The last 500 reads waited (on the clock both sides read) for the first 1,500 to leave the window.
	expect(elapsedMs).toBeGreaterThan(20_000);
}, 90_000);
