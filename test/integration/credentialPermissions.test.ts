import { forgetGraphClients } from '../../lib/auth/graphTokenProvider';
import { testAppCredential } from '../../lib/credentials/testCredentials';
import { startGraphSimulator, type GraphSimulator } from '../simulator';

const TENANT = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f7';
const APP = '22222222-aaaa-4bbb-8ccc-000000000001';
const SECRET = 'Pq8~permissions.secret-value_0123456789';

let sim: GraphSimulator;

beforeAll(async () => {
	sim = await startGraphSimulator();
	sim.registerTenant(TENANT);
	sim.registerApp({ tenantId: TENANT, clientId: APP, secrets: [{ value: SECRET }] });
});
afterAll(() => sim.close());
beforeEach(() => forgetGraphClients());

const credential = {
	cloud: 'custom',
	customLoginHost: '',
	customGraphBaseUrl: '',
	tenantId: TENANT,
	clientId: APP,
	authentication: 'clientSecret',
	clientSecret: SECRET,
};
const testWith = async (permissions: string[]) => {
	sim.setAppPermissions(TENANT, APP, permissions);
	return testAppCredential({ ...credential, customLoginHost: sim.loginBaseUrl, customGraphBaseUrl: sim.graphBaseUrl });
};

describe('the app credential test reads the permissions in the token', () => {
	it('passes with CallEvents.Read.All and User.Read.All, and says which sources they allow', async () => {
		expect(await testWith(['CallEvents.Read.All', 'User.Read.All'])).toEqual({
			status: 'OK',
			message: `Signed in to tenant ${TENANT} and received a Microsoft Graph token with the permissions CallEvents.Read.All, User.Read.All. Sources it allows: Call Events (Preview). Not allowed: Call Records needs CallRecords.Read.All; Meeting Call Events (Beta) needs OnlineMeetings.Read.All.`,
		});
	});

	it('passes with CallRecords.Read.All alone, naming Call Records as allowed and the preview as not', async () => {
		const result = await testWith(['CallRecords.Read.All', 'User.Read.All']);
		expect(result).toEqual({
			status: 'OK',
			message: `Signed in to tenant ${TENANT} and received a Microsoft Graph token with the permissions CallRecords.Read.All, User.Read.All. Sources it allows: Call Records. Not allowed: Call Events (Preview) needs CallEvents.Read.All; Meeting Call Events (Beta) needs OnlineMeetings.Read.All.`,
		});
	});

	it('names both sources when the app has both permissions', async () => {
		const result = await testWith(['CallEvents.Read.All', 'CallRecords.Read.All', 'User.Read.All']);
		expect(result.status).toBe('OK');
		expect(result.message).toMatch(/Sources it allows: Call Events \(Preview\), Call Records\. Not allowed: Meeting Call Events \(Beta\) needs OnlineMeetings\.Read\.All\.$/);
	});

	it.each([['OnlineMeetings.Read.All'], ['OnlineMeetings.ReadWrite.All']])(
		'names Meeting Call Events as allowed with %s, and the access policy the token cannot show',
		async (permission) => {
			const result = await testWith([permission, 'User.Read.All']);
			expect(result).toEqual({
				status: 'OK',
				message: `Signed in to tenant ${TENANT} and received a Microsoft Graph token with the permissions ${permission}, User.Read.All. Sources it allows: Meeting Call Events (Beta). Not allowed: Call Events (Preview) needs CallEvents.Read.All; Call Records needs CallRecords.Read.All. Meeting Call Events (Beta) also need an application access policy for the app (New-CsApplicationAccessPolicy, Grant-CsApplicationAccessPolicy), which this test cannot see.`,
			});
		},
	);

	it('fails without the permission of any source, and says how to grant one', async () => {
		const result = await testWith(['User.Read.All']);
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/lacks the application permission of every source of this trigger \(Call Events \(Preview\) needs CallEvents\.Read\.All; Call Records needs CallRecords\.Read\.All; Meeting Call Events \(Beta\) needs OnlineMeetings\.Read\.All\).*\(permissions granted: User\.Read\.All\)\. In Entra ID > App registrations > your app > API permissions.*Grant admin consent\.$/);
		expect(result.message).not.toContain(SECRET);
	});

	it('fails for an app with no application permission at all (no roles claim), naming User.Read.All too', async () => {
		const result = await testWith([]);
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/lacks the application permission of every source.*\(permissions granted: none\)/);
		expect(result.message).toMatch(/User\.Read\.All is not granted: it is needed only if you enter users by name/);
	});

	it('passes without User.Read.All, saying it is needed only for users entered by name', async () => {
		const result = await testWith(['CallEvents.Read.All']);
		expect(result.status).toBe('OK');
		expect(result.message).toMatch(/with the permissions CallEvents\.Read\.All\. Sources it allows: Call Events \(Preview\)\. Not allowed: Call Records needs CallRecords\.Read\.All; Meeting Call Events \(Beta\) needs OnlineMeetings\.Read\.All\. User\.Read\.All is not granted: it is needed only if you enter users by name \(user principal name\) instead of object ID\.$/);
	});
});
