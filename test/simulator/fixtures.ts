import { createHash, generateKeyPairSync, randomBytes } from 'crypto';
import * as forge from 'node-forge';
import type { GraphSimulator } from './index';

/** Shared set-up for the simulator's own tests (and usable by other integration tests). */
export interface KeyAndCertificate {
	privateKeyPem: string;
	certPem: string;
	/** base64 DER, the form Graph's encryptionCertificate takes. */
	certBase64: string;
	thumbprintSha256: string;
	thumbprintSha1: string;
}

export function makeSelfSignedCertificate(commonName = 'n8n-teams-calls-test', bits = 2048): KeyAndCertificate {
	const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
	const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
	const key = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
	cert.serialNumber = '0' + randomBytes(8).toString('hex').slice(1);
	cert.validity.notBefore = new Date(Date.now() - 86_400_000);
	cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
	cert.setSubject([{ name: 'commonName', value: commonName }]);
	cert.setIssuer([{ name: 'commonName', value: commonName }]);
	cert.sign(key, forge.md.sha256.create());
	const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
	return {
		privateKeyPem,
		certPem: forge.pki.certificateToPem(cert),
		certBase64: der.toString('base64'),
		thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
		thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
	};
}

export const TENANT_ID = '11111111-2222-3333-4444-555555555555';
export const CLIENT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const CLIENT_SECRET = 'sim~secret.value_0123456789';
export const USER = {
	id: '99999999-8888-7777-6666-555555555555',
	userPrincipalName: 'adele.vance@contoso.example',
	displayName: 'Adele Vance',
};

/** One tenant, one fully-permitted app with a secret, one user. */
export function seedStandardTenant(sim: GraphSimulator, permissions = ['CallEvents.Read.All', 'User.Read.All']): void {
	sim.registerTenant(TENANT_ID);
	sim.registerApp({ tenantId: TENANT_ID, clientId: CLIENT_ID, secrets: [{ value: CLIENT_SECRET }], permissions });
	sim.addUser(USER);
}

/** A raw client-credentials request (no MSAL), returning the parsed answer and status. */
export async function requestToken(
	sim: GraphSimulator,
	form: Record<string, string>,
	tenant = TENANT_ID,
): Promise<{ status: number; body: Record<string, unknown> }> {
	const res = await fetch(`${sim.loginBaseUrl}/${tenant}/oauth2/v2.0/token`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(form).toString(),
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function accessToken(sim: GraphSimulator, clientId = CLIENT_ID, secret = CLIENT_SECRET): Promise<string> {
	const { status, body } = await requestToken(sim, {
		grant_type: 'client_credentials',
		client_id: clientId,
		client_secret: secret,
		scope: `${sim.graphBaseUrl}/.default`,
	});
	if (status !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
	return String(body.access_token);
}

/** fetch against the Graph host with a bearer token and JSON body. */
export async function graphCall(
	sim: GraphSimulator,
	token: string | undefined,
	method: string,
	path: string,
	body?: unknown,
	headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | undefined }> {
	const url = path.startsWith('https://') ? path : `${sim.graphBaseUrl}${path}`;
	const res = await fetch(url, {
		method,
		headers: {
			...(token ? { Authorization: `Bearer ${token}` } : {}),
			...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
			...headers,
		},
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

export function subscriptionRequest(
	notificationUrl: string,
	encryption: KeyAndCertificate,
	now: number,
	overrides: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		changeType: 'updated',
		notificationUrl,
		lifecycleNotificationUrl: notificationUrl,
		resource: `users/${USER.id}/callConversations`,
		expirationDateTime: new Date(now + 23 * 3600_000).toISOString(),
		clientState: 'client-state-secret',
		includeResourceData: true,
		encryptionCertificate: encryption.certBase64,
		encryptionCertificateId: 'enc-cert-1',
		...overrides,
	};
}
