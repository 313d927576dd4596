import { generateSelfSignedCertificate } from '../../../lib/certificates/generateSelfSignedCertificate';
import { useFakeDate } from '../../support/fakeClock';
import {
	certificateCredential,
	encryptionCertificate,
	startTriggerFixture,
	USERS,
	type TriggerFixture,
} from '../../support/triggerFixture';
import type { GraphSimulatorOptions } from '../../simulator';

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

const rotated = generateSelfSignedCertificate({ subject: 'CN=rotated' });
const rotatedCredential = {
	certificateFormat: 'pem',
	certificatePem: rotated.certificatePem,
	privateKeyPem: rotated.privateKeyPem,
	certificateId: 'teams-calls-cert-2027',
	keepPrevious: true,
	previousCertificateFormat: 'pem',
	previousCertificatePem: encryptionCertificate.certificatePem,
	previousPrivateKeyPem: encryptionCertificate.privateKeyPem,
	previousCertificateId: certificateCredential.certificateId,
};

async function activeWithTimer(simulator: GraphSimulatorOptions = {}) {
	fixture = await startTriggerFixture({ users: [adele.id] }, { simulator });
	await fixture.harness.startTrigger();
	await fixture.harness.activate();
	return fixture;
}

it('moves a subscription to a rotated encryption certificate with a PATCH, without a gap or losing what is in flight', async () => {
	const { sim, harness } = await activeWithTimer();
	const before = sim.subscriptions()[0];
	expect(before.encryptionCertificateId).toBe('teams-calls-test-cert');
	// Sealed with the old certificate, delivered after the rotation (Graph retries for hours).
	const inFlight = sim.notificationFor(before, sim.buildCallEvent(before, { kind: 'started' }));
	harness.setCertificateCredential(rotatedCredential);

	// Nothing is due yet: no Graph call at all.
	sim.clearRequests();
	await harness.tick();
	expect(sim.countRequests({ host: 'graph' })).toBe(0);

	clock.advanceMinutes(721);
	await harness.tick();
	const after = sim.subscriptions();
	expect(after.map((s) => s.id)).toEqual([before.id]);
	expect(after[0].encryptionCertificateId).toBe('teams-calls-cert-2027');
	expect(sim.countRequests({ method: 'PATCH' })).toBe(1);
	expect(sim.countRequests({ method: 'DELETE', host: 'graph' })).toBe(0);
	expect(sim.countRequests({ method: 'POST', host: 'graph' })).toBe(0);

	await fixture.deliver([inFlight], { url: harness.url('notify') });
	await fixture.deliver([sim.notificationFor(after[0], sim.buildCallEvent(after[0], { kind: 'ended' }))]);
	expect(harness.executions.map((execution) => execution.items[0].json.event)).toEqual(['callStarted', 'callEnded']);
});

it('where Graph refuses the certificate in a PATCH, makes the subscription again at once with the same clientState', async () => {
	const { sim, harness } = await activeWithTimer({ certificateUpdateByPatch: false });
	const before = sim.subscriptions()[0];
	harness.setCertificateCredential(rotatedCredential);
	clock.advanceMinutes(721);
	await harness.tick();
	const after = sim.subscriptions();
	expect(after).toHaveLength(1);
	expect(after[0].id).not.toBe(before.id);
	expect(after[0].encryptionCertificateId).toBe('teams-calls-cert-2027');
	expect(after[0].clientState).toBe(before.clientState);
	expect(harness.failures).toHaveLength(0);
	await fixture.deliver([sim.notificationFor(after[0], sim.buildCallEvent(after[0], { kind: 'ended' }))]);
	expect(harness.executions).toHaveLength(1);
});

it('reports a user left without a subscription when making it again fails, and makes it at the next attempt', async () => {
	const { sim, harness } = await activeWithTimer({ certificateUpdateByPatch: false });
	harness.setCertificateCredential(rotatedCredential);
	clock.advanceMinutes(721);
	sim.injectFault({ method: 'POST', pathPattern: /\/subscriptions$/, host: 'graph', status: 503, times: 4 });
	await harness.tick();
	expect(sim.subscriptions()).toHaveLength(0);
	expect(harness.failures.map((failure) => failure.message)).toEqual([
		expect.stringMatching(new RegExp(`for ${adele.id} alive failed 1 time\\(s\\)\\. This user has no subscription now\\..*503 ServiceUnavailable`)),
	]);

	clock.advanceMinutes(1);
	await harness.tick();
	expect(sim.subscriptions()).toHaveLength(1);
	expect(sim.subscriptions()[0].encryptionCertificateId).toBe('teams-calls-cert-2027');
});
