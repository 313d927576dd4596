import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { readAppCredential } from '../../lib/auth/appCredential';
import { acquireGraphToken, forgetGraphClients } from '../../lib/auth/graphTokenProvider';
import { generateSelfSignedCertificate } from '../../lib/certificates/generateSelfSignedCertificate';
import { forgetTriggerRuntimes } from '../../lib/delivery/triggerRuntime';
import { forgetAllLiveStates } from '../../lib/subscriptions/liveSubscriptionStates';
import { forgetNotificationGraphCredentials } from '../../lib/trigger/notificationGraphClient';
import { forgetNotificationSigningKeys } from '../../lib/trigger/verifyBatchOrigin';
import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions } from '../simulator';
import { capturedLogs, TriggerHarness } from './n8nTriggerHarness';
import { CLIENT_ID, simulatorAppCredential, TENANT, USERS } from './simulatorTenant';

export { CLIENT_ID, TENANT, USERS } from './simulatorTenant';
export const CLIENT_SECRET = 'Zz8~fixture.secret-value_ABCDEFGHIJ';

/** One encryption certificate for the whole run: RSA key generation is the slow part of setup. */
export const encryptionCertificate = generateSelfSignedCertificate({ subject: 'CN=teams-calls notifications test' });

export interface TriggerFixture {
	sim: GraphSimulator;
	harness: TriggerHarness;
	close(): Promise<void>;
	restart(): void;
	/** Graph delivers a batch; resolves once the trigger finished with it, not just answered. */
	deliver(...args: Parameters<GraphSimulator['sendBatch']>): ReturnType<GraphSimulator['sendBatch']>;
}

export function appCredentialFor(sim: GraphSimulator) {
	return simulatorAppCredential(sim, CLIENT_SECRET);
}

export const certificateCredential = {
	certificateFormat: 'pem',
	certificatePem: encryptionCertificate.certificatePem,
	privateKeyPem: encryptionCertificate.privateKeyPem,
	certificateId: 'teams-calls-test-cert',
};

/** A simulator with one tenant, app and three users, and a harness running the trigger against it. */
export async function startTriggerFixture(
	parameters: IDataObject,
	options: {
		simulator?: GraphSimulatorOptions;
		permissions?: string[];
		plainHttp?: boolean;
		appCredential?: Partial<ReturnType<typeof appCredentialFor>>;
		certificateCredential?: ICredentialDataDecryptedObject;
		withoutCertificateCredential?: boolean;
	} = {},
): Promise<TriggerFixture> {
	forgetGraphClients();
	forgetAllLiveStates();
	forgetNotificationGraphCredentials();
	forgetTriggerRuntimes();
	const sim = await startGraphSimulator({ validationTimeoutMs: 5000, ...options.simulator });
	sim.registerTenant(TENANT);
	sim.registerApp({
		tenantId: TENANT,
		clientId: CLIENT_ID,
		secrets: [{ value: CLIENT_SECRET }],
		permissions: options.permissions ?? ['CallEvents.Read.All', 'User.Read.All'],
	});
	for (const user of USERS) sim.addUser(user);
	const harness = await TriggerHarness.start({
		parameters,
		appCredential: { ...appCredentialFor(sim), ...options.appCredential },
		certificateCredential: options.certificateCredential ?? certificateCredential,
		plainHttp: options.plainHttp,
		withoutCertificateCredential: options.withoutCertificateCredential,
	});
	return {
		sim,
		harness,
		deliver: async (...args) => {
			const results = await sim.sendBatch(...args);
			await harness.settled();
			return results;
		},
		restart: () =>
			harness.simulateRestart(() => {
				forgetAllLiveStates();
				forgetGraphClients();
				forgetNotificationSigningKeys();
				forgetNotificationGraphCredentials();
				forgetTriggerRuntimes();
			}),
		close: async () => {
			// Every scenario doubles as a leak check: nothing it logged, reported or emitted holds a secret.
			const leaks = await secretsFoundIn(sim, harness, { ...appCredentialFor(sim), ...options.appCredential });
			await harness.close();
			await sim.close();
			if (leaks.length > 0) throw new Error(`Secrets leaked into logs, errors or items: ${leaks.join(', ')}`);
		},
	};
}

async function secretsFoundIn(
	sim: GraphSimulator,
	harness: TriggerHarness,
	appCredential: ReturnType<typeof appCredentialFor>,
): Promise<string[]> {
	const secrets = new Map<string, string>([['client secret', appCredential.clientSecret]]);
	encryptionCertificate.privateKeyPem
		.split('\n')
		.filter((line) => line.length >= 40)
		.forEach((line, index) => secrets.set(`private key line ${index}`, line));
	for (const subscription of sim.subscriptions({ includeInactive: true })) {
		if (subscription.clientState) secrets.set(`clientState of ${subscription.id}`, subscription.clientState);
	}
	try {
		secrets.set('access token', await acquireGraphToken(readAppCredential(appCredential)));
	} catch {
		// A scenario with a wrong secret has no token to leak.
	}
	const haystack = [
		...capturedLogs.map((line) => line.message),
		...harness.failures.map((failure) => `${failure.message} ${(failure as { description?: string }).description ?? ''}`),
		JSON.stringify(harness.executions),
		JSON.stringify(harness.emitted),
	].join('\n');
	return [...secrets].filter(([, secret]) => secret && haystack.includes(secret)).map(([name]) => name);
}
