import { acquireGraphToken, forgetGraphClients } from '../../lib/auth/graphTokenProvider';
import { readAppCredential } from '../../lib/auth/appCredential';
import { TokenRequestError } from '../../lib/auth/tokenRequestError';
import { generateSelfSignedCertificate } from '../../lib/certificates/generateSelfSignedCertificate';
import { testAppCredential } from '../../lib/credentials/testCredentials';
import { startGraphSimulator, type GraphSimulator } from '../simulator';

const TENANT = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f6';
const SECRET_APP = '11111111-aaaa-4bbb-8ccc-000000000001';
const EXPIRED_APP = '11111111-aaaa-4bbb-8ccc-000000000002';
const CERT_APP = '11111111-aaaa-4bbb-8ccc-000000000003';
const CLIENT_SECRET_VALUE = 'Xq8~realistic.secret-value_0123456789';

let sim: GraphSimulator;
const certificate = generateSelfSignedCertificate({ subject: 'CN=teams-calls app auth', pfxPassword: 'pfx-pass' });
const unregistered = generateSelfSignedCertificate({ subject: 'CN=not uploaded' });

beforeAll(async () => {
	sim = await startGraphSimulator();
	sim.registerTenant(TENANT);
	sim.registerApp({ tenantId: TENANT, clientId: SECRET_APP, secrets: [{ value: CLIENT_SECRET_VALUE }], permissions: ['CallEvents.Read.All', 'User.Read.All'] });
	sim.registerApp({
		tenantId: TENANT,
		clientId: EXPIRED_APP,
		secrets: [{ value: CLIENT_SECRET_VALUE, expiresAt: new Date(Date.now() - 86_400_000).toISOString() }],
	});
	sim.registerApp({ tenantId: TENANT, clientId: CERT_APP, certificates: [certificate.certificatePem], permissions: ['CallEvents.Read.All'] });
});
afterAll(() => sim.close());
beforeEach(() => {
	forgetGraphClients();
	sim.clearRequests();
});

function custom(overrides: Record<string, unknown> = {}) {
	return {
		cloud: 'custom',
		customLoginHost: sim.loginBaseUrl,
		customGraphBaseUrl: sim.graphBaseUrl,
		tenantId: TENANT,
		clientId: SECRET_APP,
		authentication: 'clientSecret',
		clientSecret: CLIENT_SECRET_VALUE,
		...overrides,
	};
}

const certificatePem = (overrides: Record<string, unknown> = {}) =>
	custom({
		clientId: CERT_APP,
		authentication: 'clientCertificate',
		certificateFormat: 'pem',
		certificatePem: certificate.certificatePem,
		privateKeyPem: certificate.privateKeyPem,
		...overrides,
	});

function discoveryCalls(): number {
	return sim.countRequests({ path: /well-known|discovery\/instance/ });
}

describe('the app credential against a local Entra ID', () => {
	it('signs in with a client secret, at the custom host only, without discovery calls', async () => {
		const before = sim.tokenRequestCount(SECRET_APP);
		const result = await testAppCredential(custom());
		expect(result).toEqual({
			status: 'OK',
			message: `Signed in to tenant ${TENANT} and received a Microsoft Graph token with the permissions CallEvents.Read.All, User.Read.All. Sources it allows: Call Events (Preview). Not allowed: Call Records needs CallRecords.Read.All; Meeting Call Events (Beta) needs OnlineMeetings.Read.All.`,
		});
		expect(sim.tokenRequestCount(SECRET_APP) - before).toBe(1);
		expect(discoveryCalls()).toBe(0);
	});

	it.each([
		['a PEM certificate and PKCS#8 key', () => certificatePem()],
		['a PEM certificate with the chain sent (x5c)', () => certificatePem({ sendX5c: true })],
		['a PFX with its password', () => custom({
			clientId: CERT_APP, authentication: 'clientCertificate', certificateFormat: 'pfx',
			pfxBase64: certificate.pfx.toString('base64'), pfxPassword: 'pfx-pass',
		})],
	])('signs in with %s', async (_, data) => {
		const before = sim.tokenRequestCount(CERT_APP);
		const result = await testAppCredential(data());
		expect(result.status).toBe('OK');
		expect(sim.tokenRequestCount(CERT_APP) - before).toBe(1);
		expect(sim.findRequests({ host: 'login', clientId: CERT_APP }).pop()?.status).toBe(200);
	});

	it.each([
		['a wrong secret', () => custom({ clientSecret: 'the-secret-id-pasted-by-mistake' }), /client secret is wrong.*Value.*not its Secret ID.*\(AADSTS7000215\)/],
		['an expired secret', () => custom({ clientId: EXPIRED_APP }), /client secret has expired.*\(AADSTS7000222\)/],
		['an app that is not in the tenant', () => custom({ clientId: '99999999-aaaa-4bbb-8ccc-000000000009' }), /application 99999999-.* was not found in tenant .*\(AADSTS700016\)/],
		['a certificate that was never uploaded', () => certificatePem({ certificatePem: unregistered.certificatePem, privateKeyPem: unregistered.privateKeyPem }), /rejected the client certificate.*Upload this certificate.*\(AADSTS700027\)/],
		['an unknown tenant (or the wrong cloud)', () => custom({ tenantId: 'fabrikam.onmicrosoft.com' }), /Tenant fabrikam.onmicrosoft.com was not found in the custom .* cloud.*\(AADSTS90002\)/],
		['a key that is not the certificate\'s', () => certificatePem({ privateKeyPem: unregistered.privateKeyPem }), /Client certificate: The private key does not belong to the certificate/],
	])('explains %s', async (_, data, message) => {
		const result = await testAppCredential(data());
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(message);
		expect(result.message).not.toContain(CLIENT_SECRET_VALUE);
		expect(result.message).not.toContain(certificate.privateKeyPem.split('\n')[1]);
	});

	it('explains a login host that cannot be reached', async () => {
		const result = await testAppCredential(custom({ customLoginHost: 'https://127.0.0.1:9' }));
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/Could not reach the login host https:\/\/127\.0\.0\.1:9 .*Check the Cloud setting/);
	});

	it('explains an error Entra ID sends that has no dedicated text, with its code', async () => {
		sim.injectFault({ pathPattern: '/oauth2/v2.0/token', host: 'login', status: 400, code: 'invalid_request', aadsts: 50059, message: 'No tenant-identifying information found' });
		const result = await testAppCredential(custom());
		expect(result.message).toMatch(/Entra ID refused the token request: .*\(AADSTS50059\)/);
	});

	it('asks for a new token on every credential test, so a revoked secret is noticed', async () => {
		const before = sim.tokenRequestCount(SECRET_APP);
		await testAppCredential(custom());
		await testAppCredential(custom());
		expect(sim.tokenRequestCount(SECRET_APP) - before).toBe(2);
	});
});

describe('acquireGraphToken', () => {
	it('serves 1,000 concurrent requests for one credential with one token request, then from cache', async () => {
		const credential = readAppCredential(custom({ clientId: CERT_APP, authentication: 'clientCertificate', certificateFormat: 'pem', certificatePem: certificate.certificatePem, privateKeyPem: certificate.privateKeyPem }));
		const before = sim.tokenRequestCount(CERT_APP);
		const tokens = await Promise.all(Array.from({ length: 1000 }, () => acquireGraphToken(credential)));
		expect(new Set(tokens).size).toBe(1);
		expect(sim.tokenRequestCount(CERT_APP) - before).toBe(1);
		await acquireGraphToken(readAppCredential(certificatePem()));
		expect(sim.tokenRequestCount(CERT_APP) - before).toBe(1);
	});

	it('uses a new client when the secret changes', async () => {
		const before = sim.tokenRequestCount(SECRET_APP);
		await acquireGraphToken(readAppCredential(custom()));
		await expect(acquireGraphToken(readAppCredential(custom({ clientSecret: 'rotated-wrong' })))).rejects.toBeInstanceOf(TokenRequestError);
		expect(sim.tokenRequestCount(SECRET_APP) - before).toBe(2);
	});

	it('lets every waiting caller see the same failure, and tries again afterwards', async () => {
		const credential = readAppCredential(custom({ clientSecret: 'wrong' }));
		const results = await Promise.allSettled(Array.from({ length: 5 }, () => acquireGraphToken(credential)));
		expect(results.every((result) => result.status === 'rejected')).toBe(true);
		const before = sim.tokenRequestCount(SECRET_APP);
		await expect(acquireGraphToken(credential)).rejects.toThrow(/AADSTS7000215/);
		expect(sim.tokenRequestCount(SECRET_APP) - before).toBe(1);
	});
});
