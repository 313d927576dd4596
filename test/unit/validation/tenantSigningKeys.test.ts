import { generateKeyPairSync } from 'node:crypto';

import { CLOUD_ENDPOINTS, resolveCloudEndpoints, v1TokenIssuers } from '../../../lib/clouds';
import { KEYS_FETCH_COOLDOWN_MS, KEYS_MAX_STALE_MS, KEYS_REFRESH_AGE_MS, TenantSigningKeys } from '../../../lib/validation/tenantSigningKeys';

const TENANT = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f6';
const LOGIN = 'https://login.example.test';
const endpoints = resolveCloudEndpoints('custom', { loginHost: LOGIN, graphBaseUrl: 'https://graph.example.test' });
const jwk = { ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as object), kid: 'k1', use: 'sig' };

/** The login host's answers by URL; anything else fails like an unreachable host. */
function loginHost(documents: Record<string, unknown>) {
	const calls: string[] = [];
	const fetchJson = async (url: string) => {
		calls.push(url);
		if (!(url in documents)) throw new Error(`connect ECONNREFUSED (${url})`);
		return documents[url];
	};
	return { calls, fetchJson };
}

const configurationUrl = (tenant: string) => `${LOGIN}/${tenant}/v2.0/.well-known/openid-configuration`;

describe('TenantSigningKeys', () => {
	it('takes the tenant GUID and v2 issuer from the configuration of a tenant named by domain', async () => {
		const host = loginHost({
			[configurationUrl('contoso.example')]: { issuer: `${LOGIN}/${TENANT}/v2.0`, jwks_uri: `${LOGIN}/${TENANT}/discovery/v2.0/keys` },
			[`${LOGIN}/${TENANT}/discovery/v2.0/keys`]: { keys: [jwk] },
		});
		const keys = await new TenantSigningKeys().prepare({ tenantId: 'contoso.example', endpoints }, host.fetchJson);
		expect(keys.tenantId).toBe(TENANT);
		expect(keys.issuers).toEqual([`${LOGIN}/${TENANT}/v2.0`, `https://sts.windows.net/${TENANT}/`, `${LOGIN}/${TENANT}/`]);
		expect([...keys.keys.keys()]).toEqual(['k1']);
	});

	it('fills in a {tenantid} placeholder with the GUID the credential names', async () => {
		const host = loginHost({
			[configurationUrl(TENANT.toUpperCase())]: { issuer: `${LOGIN}/{tenantid}/v2.0`, jwks_uri: `${LOGIN}/common/discovery/v2.0/keys` },
			[`${LOGIN}/common/discovery/v2.0/keys`]: { keys: [jwk] },
		});
		const keys = await new TenantSigningKeys().prepare({ tenantId: TENANT.toUpperCase(), endpoints }, host.fetchJson);
		expect(keys.issuers[0]).toBe(`${LOGIN}/${TENANT}/v2.0`);
	});

	it.each([
		['another tenant', { issuer: `${LOGIN}/eeeeeeee-0000-4000-8000-00000000000e/v2.0`, jwks_uri: `${LOGIN}/x/keys` }, /is for tenant eeeeeeee-.*, not 0b8d6a3e/],
		['a key set over plain http', { issuer: `${LOGIN}/${TENANT}/v2.0`, jwks_uri: 'http://login.example.test/keys' }, /no issuer or no https jwks_uri/],
		['no issuer', { jwks_uri: `${LOGIN}/x/keys` }, /no issuer or no https jwks_uri/],
	])('refuses a configuration that names %s', async (_, configuration, message) => {
		const host = loginHost({ [configurationUrl(TENANT)]: configuration });
		await expect(new TenantSigningKeys().prepare({ tenantId: TENANT, endpoints }, host.fetchJson)).rejects.toThrow(message);
	});

	it('asks an unreachable login host at most once per cooldown, and says when it last failed', async () => {
		let now = 1_000_000;
		const store = new TenantSigningKeys(() => now);
		const host = loginHost({});
		const tenant = { tenantId: TENANT, endpoints };
		const first = await store.keysFor(tenant, host.fetchJson, 1000, () => undefined);
		expect(first).toEqual({ unavailable: expect.stringContaining('could not be fetched: connect ECONNREFUSED') });
		now += 10_000;
		const second = await store.keysFor(tenant, host.fetchJson, 1000, () => undefined);
		expect(second).toEqual({ unavailable: expect.stringMatching(/^the last attempt to fetch them failed 10 s ago: /) });
		expect(await store.keyAfterRotation(tenant, 'k2', host.fetchJson, 1000)).toBe('unavailable');
		expect(host.calls).toHaveLength(1);
		now += KEYS_FETCH_COOLDOWN_MS;
		await store.keysFor(tenant, host.fetchJson, 1000, () => undefined);
		expect(host.calls).toHaveLength(2);
	});
});

describe('v1TokenIssuers', () => {
	it.each([
		['global', [`https://sts.windows.net/${TENANT}/`]],
		['china', [`https://sts.chinacloudapi.cn/${TENANT}/`]],
		['usGovL4', [`https://login.microsoftonline.us/${TENANT}/`, `https://sts.windows.net/${TENANT}/`]],
	] as const)('%s', (cloud, issuers) => {
		expect(v1TokenIssuers(CLOUD_ENDPOINTS[cloud], TENANT)).toEqual(issuers);
	});
});

describe('TenantSigningKeys past the refresh age', () => {
	const documents = {
		[configurationUrl(TENANT)]: { issuer: `${LOGIN}/${TENANT}/v2.0`, jwks_uri: `${LOGIN}/${TENANT}/discovery/v2.0/keys` },
		[`${LOGIN}/${TENANT}/discovery/v2.0/keys`]: { keys: [jwk] },
	};

	it('keeps using keys whose refresh fails, with a warning, but not beyond the stale limit', async () => {
		let now = 1_000_000;
		const store = new TenantSigningKeys(() => now);
		const tenant = { tenantId: TENANT, endpoints };
		await store.prepare(tenant, loginHost(documents).fetchJson);
		const down = loginHost({});
		const warnings: string[] = [];
		now += KEYS_REFRESH_AGE_MS;
		expect(await store.keysFor(tenant, down.fetchJson, 1000, (message) => warnings.push(message))).toHaveProperty('keys');
		await new Promise((resolve) => setImmediate(resolve));
		expect(warnings).toEqual([expect.stringMatching(/^Verifying Microsoft Graph notifications with signing keys fetched 24 h ago, because refreshing them failed/)]);
		now = 1_000_000 + KEYS_MAX_STALE_MS;
		expect(await store.keysFor(tenant, down.fetchJson, 1000, () => undefined)).toHaveProperty('unavailable');
		expect(down.calls).toHaveLength(2);
	});
});
