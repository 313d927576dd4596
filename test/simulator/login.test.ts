import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import { createPrivateKey, createPublicKey, verify, type JsonWebKey } from 'crypto';
import { startGraphSimulator, type GraphSimulator } from './index';
import { CLIENT_ID, CLIENT_SECRET, makeSelfSignedCertificate, requestToken, seedStandardTenant, TENANT_ID, type KeyAndCertificate } from './fixtures';
import { base64url, signJwt } from './jwt';

/** The login host against the real MSAL client and raw requests, including every AADSTS failure. */
describe('simulated Entra token endpoint', () => {
	let sim: GraphSimulator;
	let cert: KeyAndCertificate;
	const CERTIFICATE_APP_ID = 'cccccccc-0000-0000-0000-000000000001';
	let clock = Date.now();

	beforeAll(async () => {
		sim = await startGraphSimulator({ now: () => clock });
		seedStandardTenant(sim);
		cert = makeSelfSignedCertificate('cert-client');
		sim.registerApp({ tenantId: TENANT_ID, clientId: CERTIFICATE_APP_ID, certificates: [cert.certPem], permissions: ['CallEvents.Read.All'] });
	});
	afterAll(async () => {
		await sim.close();
	});
	beforeEach(() => sim.clearRequests());

	function msalApp(auth: { clientSecret?: string; clientCertificate?: { thumbprintSha256: string; privateKey: string } }, clientId = CLIENT_ID) {
		return new ConfidentialClientApplication({
			auth: {
				clientId,
				authority: sim.authorityFor(TENANT_ID),
				knownAuthorities: [sim.loginHost],
				authorityMetadata: sim.authorityMetadataFor(TENANT_ID),
				...auth,
			},
			system: { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } },
		});
	}
	const scopes = () => [`${sim.graphBaseUrl}/.default`];

	it('issues a token to MSAL with a client secret, without any discovery call', async () => {
		const result = await msalApp({ clientSecret: CLIENT_SECRET }).acquireTokenByClientCredential({ scopes: scopes() });
		expect(result?.tokenType).toBe('Bearer');
		const claims = JSON.parse(Buffer.from(result!.accessToken.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
		expect(claims).toMatchObject({ aud: sim.graphBaseUrl, tid: TENANT_ID, appid: CLIENT_ID, roles: ['CallEvents.Read.All', 'User.Read.All'] });
		expect(sim.countRequests({ method: 'GET' })).toBe(0);
		expect(sim.countRequests({ method: 'POST', host: 'login', path: `/${TENANT_ID}/oauth2/v2.0/token`, status: 200 })).toBe(1);
	});

	it('issues a token to MSAL with a certificate (PS256, x5t#S256)', async () => {
		const before = sim.tokenRequestCount(CERTIFICATE_APP_ID);
		const app = msalApp({ clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem } }, CERTIFICATE_APP_ID);
		const result = await app.acquireTokenByClientCredential({ scopes: scopes() });
		expect(result?.accessToken).toBeTruthy();
		// MSAL caches: a second call does not reach the token endpoint.
		await app.acquireTokenByClientCredential({ scopes: scopes() });
		expect(sim.tokenRequestCount(CERTIFICATE_APP_ID)).toBe(before + 1);
		expect(sim.countRequests({ method: 'GET' })).toBe(0);
	});

	it('accepts an RS256 assertion with the SHA-1 x5t', async () => {
		const { status } = await requestToken(sim, assertionForm(signedAssertion({ alg: 'RS256' })));
		expect(status).toBe(200);
	});

	it('maps MSAL errors from AADSTS answers (ServerError with errorNo)', async () => {
		const err = await msalApp({ clientSecret: 'wrong' }).acquireTokenByClientCredential({ scopes: scopes() }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ServerError);
		expect((err as ServerError).errorCode).toBe('invalid_client');
		expect(String((err as ServerError).errorNo)).toBe('7000215');
	});

	const secretForm = (overrides: Record<string, string> = {}) => ({
		grant_type: 'client_credentials',
		client_id: CLIENT_ID,
		client_secret: CLIENT_SECRET,
		scope: `${sim.graphBaseUrl}/.default`,
		...overrides,
	});

	function expectEntraError(body: Record<string, unknown>, error: string, code: number) {
		expect(body).toMatchObject({ error, error_codes: [code] });
		expect(String(body.error_description)).toMatch(new RegExp(`^AADSTS${code}: `));
		for (const field of ['timestamp', 'trace_id', 'correlation_id']) expect(typeof body[field]).toBe('string');
	}

	it('unknown tenant → 400 invalid_request AADSTS90002', async () => {
		const { status, body } = await requestToken(sim, secretForm(), '00000000-0000-0000-0000-00000000dead');
		expect(status).toBe(400);
		expectEntraError(body, 'invalid_request', 90002);
	});

	it('unknown client → 400 unauthorized_client AADSTS700016', async () => {
		const { status, body } = await requestToken(sim, secretForm({ client_id: '12345678-0000-0000-0000-000000000000' }));
		expect(status).toBe(400);
		expectEntraError(body, 'unauthorized_client', 700016);
	});

	it('wrong secret → 401 invalid_client AADSTS7000215', async () => {
		const { status, body } = await requestToken(sim, secretForm({ client_secret: 'nope' }));
		expect(status).toBe(401);
		expectEntraError(body, 'invalid_client', 7000215);
	});

	it('expired secret → 401 invalid_client AADSTS7000222 (by the simulator clock)', async () => {
		const clientId = 'eeeeeeee-0000-0000-0000-000000000002';
		sim.registerApp({ tenantId: TENANT_ID, clientId, secrets: [{ value: 'old', expiresAt: clock + 60_000 }] });
		expect((await requestToken(sim, secretForm({ client_id: clientId, client_secret: 'old' }))).status).toBe(200);
		clock += 120_000;
		const { status, body } = await requestToken(sim, secretForm({ client_id: clientId, client_secret: 'old' }));
		expect(status).toBe(401);
		expectEntraError(body, 'invalid_client', 7000222);
	});

	it('accepts a registered domain in place of the tenant id', async () => {
		sim.registerTenant(TENANT_ID, ['contoso.onmicrosoft.com']);
		const { status, body } = await requestToken(sim, secretForm(), 'Contoso.onmicrosoft.com');
		expect(status).toBe(200);
		const claims = JSON.parse(Buffer.from(String(body.access_token).split('.')[1], 'base64url').toString()) as { tid: string };
		expect(claims.tid).toBe(TENANT_ID);
	});

	it('wrong scope → 400 invalid_scope AADSTS70011', async () => {
		const { status, body } = await requestToken(sim, secretForm({ scope: 'https://graph.microsoft.com/.default' }));
		expect(status).toBe(400);
		expectEntraError(body, 'invalid_scope', 70011);
	});

	describe('client assertion failures → 401 invalid_client AADSTS700027', () => {
		const cases: [string, () => string][] = [
			['unknown thumbprint', () => signedAssertion({ x5tS256: base64url(Buffer.alloc(32, 1)) })],
			['signed by another key', () => signedAssertion({ key: makeSelfSignedCertificate().privateKeyPem })],
			['wrong audience', () => signedAssertion({ claims: { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' } })],
			['iss is not the client', () => signedAssertion({ claims: { iss: 'someone-else' } })],
			['expired', () => signedAssertion({ claims: { exp: Math.floor(Date.now() / 1000) - 10 } })],
			['garbage', () => 'not.a.jwt'],
		];
		it.each(cases)('%s', async (_name, make) => {
			const { status, body } = await requestToken(sim, assertionForm(make()));
			expect(status).toBe(401);
			expectEntraError(body, 'invalid_client', 700027);
		});
	});

	it('counts token requests per client', async () => {
		const clientId = 'dddddddd-0000-0000-0000-000000000003';
		sim.registerApp({ tenantId: TENANT_ID, clientId, secrets: [{ value: 's' }] });
		await requestToken(sim, secretForm({ client_id: clientId, client_secret: 's' }));
		await requestToken(sim, secretForm({ client_id: clientId, client_secret: 'bad' }));
		expect(sim.tokenRequestCount(clientId)).toBe(2);
		expect(sim.countRequests({ host: 'login', clientId })).toBe(2);
	});

	it('applies injected faults to the token endpoint, with Retry-After', async () => {
		sim.injectFault({ pathPattern: '/oauth2/v2.0/token', status: 429, retryAfterSeconds: 7, times: 1 });
		const res = await fetch(`${sim.loginBaseUrl}/${TENANT_ID}/oauth2/v2.0/token`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams(secretForm()).toString(),
		});
		expect(res.status).toBe(429);
		expect(res.headers.get('retry-after')).toBe('7');
		expect(((await res.json()) as Record<string, unknown>).error).toBe('temporarily_unavailable');
		expect((await requestToken(sim, secretForm())).status).toBe(200);
		expect(sim.findRequests({ host: 'login' }).map((r) => [r.status, r.fault])).toEqual([
			[429, true],
			[200, false],
		]);
	});

	it('serves discovery and OIDC metadata (logged like everything else)', async () => {
		const oidc = (await (await fetch(`${sim.loginBaseUrl}/${TENANT_ID}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
		expect(oidc.token_endpoint).toBe(`${sim.loginBaseUrl}/${TENANT_ID}/oauth2/v2.0/token`);
		const instance = await fetch(`${sim.loginBaseUrl}/common/discovery/instance?api-version=1.1`);
		expect(instance.status).toBe(200);
		expect(sim.countRequests({ method: 'GET', path: /openid-configuration|discovery\/instance/ })).toBe(2);
	});

	it('publishes JWKS that verifies the access tokens it issues', async () => {
		const { body } = await requestToken(sim, secretForm());
		const [h, p, s] = String(body.access_token).split('.');
		const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
		for (const path of ['/common/discovery/v2.0/keys', `/${TENANT_ID}/discovery/v2.0/keys`]) {
			const jwks = (await (await fetch(sim.loginBaseUrl + path)).json()) as { keys: (JsonWebKey & { kid: string })[] };
			const jwk = jwks.keys.find((k) => k.kid === header.kid);
			expect(jwk).toBeDefined();
			const ok = verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk!, format: 'jwk' }), Buffer.from(s, 'base64url'));
			expect(ok).toBe(true);
		}
	});

	function assertionForm(assertion: string) {
		return {
			grant_type: 'client_credentials',
			client_id: CERTIFICATE_APP_ID,
			client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
			client_assertion: assertion,
			scope: `${sim.graphBaseUrl}/.default`,
		};
	}

	function signedAssertion(o: { alg?: 'RS256' | 'PS256'; x5tS256?: string; key?: string; claims?: Record<string, unknown> }): string {
		const alg = o.alg ?? 'PS256';
		const nowSec = Math.floor(Date.now() / 1000);
		const header =
			alg === 'PS256'
				? { typ: 'JWT', 'x5t#S256': o.x5tS256 ?? Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url') }
				: { typ: 'JWT', x5t: Buffer.from(cert.thumbprintSha1, 'hex').toString('base64url') };
		const claims = {
			aud: `${sim.loginBaseUrl}/${TENANT_ID}/oauth2/v2.0/token`,
			iss: CERTIFICATE_APP_ID,
			sub: CERTIFICATE_APP_ID,
			jti: 'j1',
			nbf: nowSec,
			exp: nowSec + 600,
			...o.claims,
		};
		return signJwt(header, claims, createPrivateKey(o.key ?? cert.privateKeyPem), alg);
	}
});
