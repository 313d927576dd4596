import { generateSelfSignedCertificate } from '../../../lib/certificates/generateSelfSignedCertificate';
import { useFakeDate } from '../../support/fakeClock';
import {
	certificateCredential,
	encryptionCertificate,
	startTriggerFixture,
	USERS,
	type TriggerFixture,
} from '../../support/triggerFixture';

const [adele] = USERS;
let fixture: TriggerFixture;
let clock: ReturnType<typeof useFakeDate>;

beforeEach(() => {
	clock = useFakeDate();
});
afterEach(async () => {
	await fixture?.close();
	clock.restore();
});

it('moves subscriptions to a rotated encryption certificate without losing what is in flight', async () => {
	fixture = await startTriggerFixture({ users: [adele.id] });
	const { sim, harness } = fixture;
	await harness.startTrigger();
	await harness.activate();
	const before = sim.subscriptions()[0];
	expect(before.encryptionCertificateId).toBe('teams-calls-test-cert');
	// Sealed with the old certificate, delivered after the rotation (Graph retries for hours).
	const inFlight = sim.notificationFor(before, sim.buildCallEvent(before, { kind: 'started' }));

	const rotated = generateSelfSignedCertificate({ subject: 'CN=rotated' });
	harness.setCertificateCredential({
		certificateFormat: 'pem',
		certificatePem: rotated.certificatePem,
		privateKeyPem: rotated.privateKeyPem,
		certificateId: 'teams-calls-cert-2027',
		keepPrevious: true,
		previousCertificateFormat: 'pem',
		previousCertificatePem: encryptionCertificate.certificatePem,
		previousPrivateKeyPem: encryptionCertificate.privateKeyPem,
		previousCertificateId: certificateCredential.certificateId,
	});

	// Nothing is due yet: no Graph call at all.
	await harness.tick();
	expect(sim.subscriptions()[0].id).toBe(before.id);

	clock.advanceMinutes(721);
	await harness.tick();
	const after = sim.subscriptions();
	expect(after).toHaveLength(1);
	expect(after[0].id).not.toBe(before.id);
	expect(after[0].encryptionCertificateId).toBe('teams-calls-cert-2027');
	expect(after[0].clientState).toBe(before.clientState);

	await fixture.deliver([inFlight], { url: harness.url('notify') });
	await fixture.deliver([sim.notificationFor(after[0], sim.buildCallEvent(after[0], { kind: 'ended' }))]);
	expect(harness.executions.map((execution) => execution.items[0].json.event)).toEqual(['callStarted', 'callEnded']);
});
