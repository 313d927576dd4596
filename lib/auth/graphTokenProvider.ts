import { createHash } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';

import { BoundedCache } from '../boundedCache';
import { CallRecordPace } from '../graph/callRecordPace';
import { loadCertificateMaterial, type CertificateMaterial } from '../certificates/certificateMaterial';
import {
	checkRsaKeySize,
	checkValidityPeriod,
	validityPeriodOf,
} from '../certificates/checkCertificateUsable';
import type { AppCredential } from './appCredential';
import { buildMsalConfiguration, graphScope } from './msalConfiguration';
import { describeTokenError } from './tokenRequestError';

interface ClientEntry {
	client: ConfidentialClientApplication;
	scope: string;
	/** The token request in flight; concurrent callers share it instead of each asking Entra ID. */
	pending?: Promise<string>;
}

/**
 * One MSAL client per distinct credential for the life of the process, so its token cache is reused
 * across executions and activations. MSAL does not merge concurrent client-credential requests, so a
 * burst of renewals would otherwise mean a burst of token requests.
 */
const clients = new BoundedCache<string, ClientEntry>(64);

/**
 * Graph counts call-record requests per app and tenant, whatever secret or certificate signs them in: one pace
 * for each, shared by every trigger and credential of that app.
 */
const callRecordPaces = new BoundedCache<string, CallRecordPace>(64);

export function callRecordPaceOf(credential: AppCredential): CallRecordPace {
	const key = JSON.stringify([credential.endpoints.graphOrigin, credential.tenantId.toLowerCase(), credential.clientId.toLowerCase()]);
	return callRecordPaces.getOrCreate(key, () => new CallRecordPace());
}

function credentialFingerprint(credential: AppCredential): string {
	// The secret or key is part of the identity: a rotated secret must get a new client and cache.
	return createHash('sha256').update(JSON.stringify(credential)).digest('hex');
}

function createClient(credential: AppCredential): ConfidentialClientApplication {
	let certificate: CertificateMaterial | undefined;
	if (credential.auth.type === 'clientCertificate') {
		certificate = loadCertificateMaterial(credential.auth.certificate);
		checkRsaKeySize(certificate, 'client');
		checkValidityPeriod(validityPeriodOf(certificate), 'client');
	}
	return new ConfidentialClientApplication(buildMsalConfiguration(credential, certificate));
}

async function requestToken(client: ConfidentialClientApplication, scope: string, skipCache: boolean) {
	const result = await client.acquireTokenByClientCredential({ scopes: [scope], skipCache });
	if (!result?.accessToken) throw new Error('The login host returned no access token');
	return result.accessToken;
}

/** An app-only access token for Microsoft Graph, from the cache while it is valid. */
export async function acquireGraphToken(credential: AppCredential): Promise<string> {
	const key = credentialFingerprint(credential);
	let entry = clients.get(key);
	if (!entry) {
		try {
			entry = { client: createClient(credential), scope: graphScope(credential) };
		} catch (error) {
			throw describeTokenError(error, credential);
		}
		clients.set(key, entry);
	}
	if (entry.pending) return entry.pending;

	const current = entry;
	current.pending = requestToken(current.client, current.scope, false)
		.catch((error: unknown) => {
			throw describeTokenError(error, credential);
		})
		.finally(() => {
			current.pending = undefined;
		});
	return current.pending;
}

/**
 * Asks Entra ID for a new token with a throwaway client: a credential test must prove the secret or
 * certificate works now, not that a token was cached before it was revoked.
 */
export async function requestFreshGraphToken(credential: AppCredential): Promise<string> {
	try {
		return await requestToken(createClient(credential), graphScope(credential), true);
	} catch (error) {
		throw describeTokenError(error, credential);
	}
}

/** Drops the cached client and token of one credential, so the next request signs in again. */
export function forgetGraphClient(credential: AppCredential): void {
	clients.delete(credentialFingerprint(credential));
}

/** Test isolation: a fresh process state. */
export function forgetGraphClients(): void {
	clients.clear();
	callRecordPaces.clear();
}
