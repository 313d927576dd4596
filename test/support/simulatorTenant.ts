/**
 * The tenant, app and users the simulator plays in every harness (n8n-core integration tests and the
 * real-n8n end-to-end suite), and the app credential that points a trigger at a running simulator.
 * Kept free of other imports so every harness can compile it.
 */
export const TENANT = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f6';
export const CLIENT_ID = '22222222-aaaa-4bbb-8ccc-000000000001';
export const USERS = [
	{ id: 'aaaaaaaa-0000-4000-8000-000000000001', userPrincipalName: 'adele@contoso.test', displayName: 'Adele Vance' },
	{ id: 'bbbbbbbb-0000-4000-8000-000000000002', userPrincipalName: 'bianca@contoso.test', displayName: 'Bianca Pisani' },
	{ id: 'cccccccc-0000-4000-8000-000000000003', userPrincipalName: 'cyril@contoso.test', displayName: 'Cyril Durand' },
];

export function simulatorAppCredential(
	sim: { loginBaseUrl: string; graphBaseUrl: string },
	clientSecret: string,
) {
	return {
		cloud: 'custom',
		customLoginHost: sim.loginBaseUrl,
		customGraphBaseUrl: sim.graphBaseUrl,
		tenantId: TENANT,
		clientId: CLIENT_ID,
		authentication: 'clientSecret',
		clientSecret,
	};
}
