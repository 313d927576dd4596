import { logsOfEachTest } from '../../support/n8nTriggerHarness';
import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/**
 * changeType is an evolvable enumeration in Graph (`unknownFutureValue` became a v1.0 member in September
 * 2026): a value the node does not know never makes it refuse the batch; the notification is handled by what
 * its resource says, and the value is logged at debug level.
 */
const logsOfThisTest = logsOfEachTest();
const [adele, bianca] = USERS;
let fixture: TriggerFixture;
afterEach(async () => fixture?.close());

const only = (): StoredSubscription => {
	const subscriptions = fixture.sim.subscriptions();
	expect(subscriptions).toHaveLength(1);
	return subscriptions[0] as StoredSubscription;
};
const unknownChangeTypeLogged = () =>
	logsOfThisTest().filter((line) => line.level === 'debug' && line.message.includes('changeType "unknownFutureValue"'));

it('call records: a notification with changeType unknownFutureValue is accepted and its record becomes one item', async () => {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [adele.id], recordOptions: { waitForRecordSeconds: 4 } },
		{ permissions: ['CallRecords.Read.All', 'User.Read.All'], withoutCertificateCredential: true },
	);
	await fixture.harness.activate();
	const sub = only();
	const known = fixture.sim.addCallRecord({ organizer: adele, participants: [adele, bianca] });
	const record = fixture.sim.addCallRecord({ organizer: adele, participants: [adele, bianca] });
	const [answer] = await fixture.deliver([
		fixture.sim.callRecordNotificationFor(sub, known.id),
		fixture.sim.callRecordNotificationFor(sub, record.id, 'created', { changeType: 'unknownFutureValue' }),
	]);
	expect(answer.status).toBe(202);
	expect(fixture.harness.runs.flatMap((execution) => execution.items.map(({ json }) => [json.callId, json.event, json.changeType]))).toEqual([
		[known.id, 'callEnded', 'created'],
		[record.id, 'callEnded', 'unknownFutureValue'],
	]);
	expect(unknownChangeTypeLogged()).toHaveLength(1);
});

it('call events: a notification with changeType unknownFutureValue is accepted and becomes its call event', async () => {
	fixture = await startTriggerFixture({ users: [adele.id] });
	await fixture.harness.activate();
	const sub = only();
	const [answer] = await fixture.deliver([
		fixture.sim.notificationFor(sub, fixture.sim.buildCallEvent(sub, { kind: 'started' }), { changeType: 'unknownFutureValue' }),
	]);
	expect(answer.status).toBe(202);
	expect(fixture.harness.runs.flatMap((execution) => execution.items.map(({ json }) => [json.event, json.changeType]))).toEqual([
		['callStarted', 'unknownFutureValue'],
	]);
	expect(unknownChangeTypeLogged()).toHaveLength(1);
});
