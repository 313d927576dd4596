import { acquireGraphToken } from '../../../lib/auth/graphTokenProvider';
import { readAppCredential } from '../../../lib/auth/appCredential';
import { useFakeDate } from '../../support/fakeClock';
import { capturedLogs } from '../../support/n8nTriggerHarness';
import {
	appCredentialFor,
	CLIENT_SECRET,
	encryptionCertificate,
	startTriggerFixture,
	USERS,
	type TriggerFixture,
} from '../../support/triggerFixture';

const PFX_PASSWORD = 'pfx-Password-that-must-not-leak-42';
const [adele, bianca] = USERS;

/**
 * Runs the trigger through its scenarios, good and bad, capturing every log line, error, HTTP answer
 * and output item, then searches all of it for the secrets involved.
 */
describe('secrets never leave the credentials', () => {
	const texts: string[] = [];
	const secrets = new Map<string, string>();
	let fixture: TriggerFixture;

	const record = (value: unknown) => texts.push(typeof value === 'string' ? value : JSON.stringify(value));
	const attempt = async (work: () => Promise<unknown>) => {
		try {
			await work();
		} catch (error) {
			record((error as Error).message);
			record((error as { description?: string }).description ?? '');
		}
	};

	beforeAll(async () => {
		capturedLogs.length = 0;
		const clock = useFakeDate();
		try {
			fixture = await startTriggerFixture(
				{ users: [adele.id, bianca.userPrincipalName], options: { includeRawNotification: true, emitMissedNotifications: true } },
				{
					certificateCredential: {
						certificateFormat: 'pfx',
						pfxBase64: encryptionCertificate.pfx.toString('base64'),
						pfxPassword: '',
					},
				},
			);
			const { sim, harness } = fixture;
			await harness.startTrigger();
			await harness.activate();
			const subs = sim.subscriptions();
			const sub = subs[0];
			await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }))]);
			const tampered = sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'ended' }));
			// Always a different first character (replacing it with a fixed one left 1 in 64 signatures intact).
			const signature = tampered.encryptedContent.dataSignature;
			tampered.encryptedContent.dataSignature = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
			await fixture.deliver([tampered]);
			await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'ended' }), { clientState: 'wrong' })]);
			await fixture.deliver([sim.lifecycleNotificationFor(sub, 'reauthorizationRequired'), sim.lifecycleNotificationFor(sub, 'missed')]);
			await fixture.deliver([sim.notificationFor(sub, sim.buildCallEvent(sub, { kind: 'started' }))], {
				validationTokens: [sim.validationTokenFor(sub.applicationId, sub.tenantId, {}, { foreignKey: true })],
			});
			sim.injectFault({ method: 'PATCH', pathPattern: '/subscriptions/', status: 403, code: 'ExtensionError', message: 'Forbidden', times: 50 });
			for (let tick = 0; tick < 5; tick++) {
				clock.advanceMinutes(400);
				await harness.tick();
			}
			sim.clearFaults();
			secrets.set('access token', await acquireGraphToken(readAppCredential(appCredentialFor(sim))));
			for (const subscription of sim.subscriptions({ includeInactive: true })) {
				secrets.set(`clientState of ${subscription.id}`, String(subscription.clientState));
			}
			for (const delivery of sim.deliveries) record(delivery.bodyText);
			record(harness.executions);
			for (const failure of harness.failures) record([failure.message, (failure as { description?: string }).description]);
			await harness.deactivate();
			await fixture.close();

			// A wrong secret and a wrong PFX password: the errors must say what is wrong, not what was typed.
			fixture = await startTriggerFixture({ users: [adele.id] }, { appCredential: { clientSecret: `${CLIENT_SECRET}-old` } });
			await attempt(() => fixture.harness.activate());
			await fixture.close();
			fixture = await startTriggerFixture(
				{ users: [adele.id] },
				{ certificateCredential: { certificateFormat: 'pfx', pfxBase64: encryptionCertificate.pfx.toString('base64'), pfxPassword: PFX_PASSWORD } },
			);
			await attempt(() => fixture.harness.activate());
			await fixture.close();
		} finally {
			clock.restore();
		}
		for (const line of capturedLogs) record(line.message);
		secrets.set('client secret', CLIENT_SECRET);
		secrets.set('PFX password', PFX_PASSWORD);
		const keyLines = encryptionCertificate.privateKeyPem.split('\n').filter((line) => line.length >= 40);
		keyLines.forEach((line, index) => secrets.set(`private key line ${index}`, line));
		secrets.set('PFX', encryptionCertificate.pfx.toString('base64').slice(100, 160));
	}, 120_000);

	it('ran the scenarios and captured their output', () => {
		expect(texts.join('\n')).toMatch(/callStarted/);
		expect(texts.join('\n')).toMatch(/SIGNATURE_MISMATCH/);
		expect(texts.join('\n')).toMatch(/client secret is wrong/);
		expect(texts.join('\n')).toMatch(/PFX/);
		expect(texts.join('\n')).toMatch(/alive failed/);
		expect(secrets.size).toBeGreaterThan(10);
	});

	it('finds none of the secrets anywhere', () => {
		const haystack = texts.join('\n');
		const leaked = [...secrets].filter(([, secret]) => secret && haystack.includes(secret)).map(([name]) => name);
		expect(leaked).toEqual([]);
	});
});
