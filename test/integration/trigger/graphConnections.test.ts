import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/**
 * Connections to Graph for the reads a burst of call records costs: each record is one GET, read 4 at a time per
 * trigger, and those GETs share a few kept-alive TLS connections instead of opening one each.
 */
const [adele, bianca] = USERS;
let fixture: TriggerFixture;
afterEach(async () => fixture?.close());

it('200 call records read over at most 8 TLS connections to Graph, each record one item', async () => {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [] },
		{ permissions: ['CallRecords.Read.All', 'User.Read.All'], withoutCertificateCredential: true },
	);
	await fixture.harness.activate();
	const [sub] = fixture.sim.subscriptions() as StoredSubscription[];
	const records = Array.from({ length: 200 }, () =>
		fixture.sim.addCallRecord({ type: 'peerToPeer', modalities: ['audio'], organizer: adele, participants: [adele, bianca] }),
	);
	const connectionsBefore = fixture.sim.graphTlsConnectionsAccepted;

	await fixture.deliver(records.map((record) => fixture.sim.callRecordNotificationFor(sub!, record.id)));

	expect(fixture.sim.countRequests({ method: 'GET', path: /\/communications\/callRecords\// })).toBe(200);
	const items = fixture.harness.runs.flatMap((execution) => execution.items.map(({ json }) => json.callId));
	expect(items.sort()).toEqual(records.map((record) => record.id).sort());
	expect(fixture.sim.graphTlsConnectionsAccepted - connectionsBefore).toBeLessThanOrEqual(8);
}, 60_000);
