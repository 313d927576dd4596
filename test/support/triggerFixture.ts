import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { readAppCredential } from '../../lib/auth/appCredential';
import { acquireGraphToken, forgetGraphClients } from '../../lib/auth/graphTokenProvider';
import { generateSelfSignedCertificate } from '../../lib/certificates/generateSelfSignedCertificate';
import { forgetTriggerRuntimes } from '../../lib/delivery/triggerRuntime';
import { forgetAllLiveStates } from '../../lib/subscriptions/liveSubscriptionStates';
import { forgetNotificationGraphCredentials } from '../../lib/trigger/notificationGraphClient';
import { forgetNotificationSigningKeys } from '../../lib/trigger/verifyBatchOrigin';
import { forgetLocks } from '../../lib/subscriptions/lock';
import { forgetNotificationCertificates } from '../../lib/trigger/notificationCertificateFor';
import { forgetPoolWarning } from '../../lib/trigger/openNotifications';
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

/**
 * Everything the node keeps in a process's memory, dropped as a process restart drops it: live subscription
 * states and ended activations, locks, token clients, the app and certificate credentials and parsed
 * certificates, signing keys, the per-trigger runtimes (dedup memory, read limiter, reads in flight) and
 * the pool warning's interval. The shared key-unwrap worker pool stays: it holds no data between batches.
 * n8n's database (static data, processed-data table) is the harness's and stays.
 */
export function forgetProcessMemory(): void {
	forgetAllLiveStates();
	forgetLocks();
	forgetGraphClients();
	forgetNotificationGraphCredentials();
	forgetNotificationCertificates();
	forgetNotificationSigningKeys();
	forgetTriggerRuntimes();
	forgetPoolWarning();
}

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
	forgetProcessMemory();
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
		restart: () => harness.simulateRestart(forgetProcessMemory),
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
