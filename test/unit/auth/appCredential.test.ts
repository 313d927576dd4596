import { readAppCredential } from '../../../lib/auth/appCredential';
import { authorityUrl, buildMsalConfiguration, graphScope } from '../../../lib/auth/msalConfiguration';

const tenantId = '11111111-2222-3333-4444-555555555555';
const clientId = '66666666-7777-8888-9999-000000000000';
const base = { tenantId, clientId, authentication: 'clientSecret', clientSecret: 'value' };

describe('readAppCredential and the cloud table', () => {
	it.each([
		['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com/.default'],
		['usGovL4', 'https://login.microsoftonline.us', 'https://graph.microsoft.us/.default'],
		['usGovL5', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us/.default'],
		['china', 'https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn/.default'],
	])('signs in to the %s cloud at its own login host with its own Graph scope', (cloud, login, scope) => {
		const credential = readAppCredential({ ...base, cloud });
		expect(authorityUrl(credential)).toBe(`${login}/${tenantId}`);
		expect(graphScope(credential)).toBe(scope);
		expect(buildMsalConfiguration(credential).auth.knownAuthorities).toBeUndefined();
	});

	it('describes a custom login host to MSAL so it never asks the public cloud about it', () => {
		const credential = readAppCredential({
			...base, cloud: 'custom', customLoginHost: 'https://login.contoso.test/', customGraphBaseUrl: 'https://graph.contoso.test/api/',
		});
		expect(graphScope(credential)).toBe('https://graph.contoso.test/api/.default');
		const { auth } = buildMsalConfiguration(credential);
		expect(auth.authority).toBe(`https://login.contoso.test/${tenantId}`);
		expect(auth.knownAuthorities).toEqual(['login.contoso.test']);
		expect(JSON.parse(auth.authorityMetadata ?? '{}').token_endpoint).toBe(
			`https://login.contoso.test/${tenantId}/oauth2/v2.0/token`,
		);
		expect(JSON.parse(auth.cloudDiscoveryMetadata ?? '{}').metadata[0].aliases).toEqual(['login.contoso.test']);
	});

	it.each([
		[{ cloud: 'custom', customLoginHost: 'http://login.test', customGraphBaseUrl: 'https://g.test' }, /Login Host must use https/],
		[{ cloud: 'custom', customLoginHost: 'https://login.test/tenant', customGraphBaseUrl: 'https://g.test' }, /host only, without a path/],
		[{ cloud: 'custom', customLoginHost: 'https://login.test' }, /needs both a Login Host and a Graph Base URL/],
		[{ cloud: 'custom', customLoginHost: 'login dot test', customGraphBaseUrl: 'https://g.test' }, /is not a URL/],
		[{ tenantId: '' }, /Enter the Directory \(tenant\) ID/],
		[{ tenantId: 'common' }, /"common" is not a tenant/],
		[{ tenantId: 'not a tenant' }, /must be a GUID .* or a domain/],
		[{ clientId: 'my-app' }, /Application \(client\) ID GUID/],
		[{ clientSecret: '' }, /client secret's Value/],
	])('explains a wrong setting: %j', (override, message) => {
		expect(() => readAppCredential({ ...base, ...override })).toThrow(message);
	});

	it('accepts a tenant domain and trims pasted whitespace', () => {
		const credential = readAppCredential({ ...base, tenantId: ' contoso.onmicrosoft.com ', clientId: ` ${clientId}\n` });
		expect(credential.tenantId).toBe('contoso.onmicrosoft.com');
		expect(credential.clientId).toBe(clientId);
	});
});
