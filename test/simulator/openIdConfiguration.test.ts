import { startGraphSimulator, type GraphSimulator } from './index';

const TENANT_ID = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f6';
const DOMAIN = 'contoso.onmicrosoft.com';

/** The v2 OpenID configuration as Entra serves it, per tenant: what the trigger reads its keys and issuer from. */
describe('simulated OpenID configuration', () => {
	let sim: GraphSimulator;

	beforeAll(async () => {
		sim = await startGraphSimulator();
		sim.registerTenant(TENANT_ID, [DOMAIN]);
	});
	afterAll(async () => sim.close());

	const get = async (path: string) => {
		const response = await fetch(`${sim.loginBaseUrl}${path}`);
		return { status: response.status, body: (await response.json()) as Record<string, unknown> };
	};

	it.each([TENANT_ID, DOMAIN, DOMAIN.toUpperCase()])('names the tenant GUID everywhere for %s', async (tenant) => {
		const { status, body } = await get(`/${tenant}/v2.0/.well-known/openid-configuration`);
		expect(status).toBe(200);
		expect(body.issuer).toBe(`${sim.loginBaseUrl}/${TENANT_ID}/v2.0`);
		expect(body.jwks_uri).toBe(`${sim.loginBaseUrl}/${TENANT_ID}/discovery/v2.0/keys`);
		expect(body.token_endpoint).toBe(`${sim.loginBaseUrl}/${TENANT_ID}/oauth2/v2.0/token`);
	});

	it('keeps /common in the endpoints and a {tenantid} placeholder in the issuer', async () => {
		const { body } = await get('/common/v2.0/.well-known/openid-configuration');
		expect(body.issuer).toBe(`${sim.loginBaseUrl}/{tenantid}/v2.0`);
		expect(body.jwks_uri).toBe(`${sim.loginBaseUrl}/common/discovery/v2.0/keys`);
	});

	it('serves the keys at the jwks_uri it names, and Entra\'s 400 for an unknown tenant', async () => {
		const { body } = await get(`/${DOMAIN}/v2.0/.well-known/openid-configuration`);
		const keys = await fetch(String(body.jwks_uri));
		expect(((await keys.json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid)).toEqual(sim.jwks().keys.map((key) => key.kid));
		for (const path of ['/unknown.example/v2.0/.well-known/openid-configuration', '/unknown.example/discovery/v2.0/keys']) {
			const { status, body: error } = await get(path);
			expect([status, error.error]).toEqual([400, 'invalid_tenant']);
		}
	});
});
