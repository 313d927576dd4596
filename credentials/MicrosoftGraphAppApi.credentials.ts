import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

import { certificateInputProperties } from '../lib/credentials/certificateInputFields';

const whenCertificate = { show: { authentication: ['clientCertificate'] } };

/**
 * An Entra ID app registration used app-only (client credentials). Tested by the Microsoft Teams
 * Call Trigger's credential test, which signs in through MSAL.
 */
export class MicrosoftGraphAppApi implements ICredentialType {
	name = 'microsoftGraphAppApi';

	displayName = 'Microsoft Graph App (Client Credentials) API';

	icon: Icon = { light: 'file:microsoftGraph.svg', dark: 'file:microsoftGraph.dark.svg' };

	documentationUrl =
		'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow';

	properties: INodeProperties[] = [
		{
			displayName: 'Cloud',
			name: 'cloud',
			type: 'options',
			options: [
				{ name: 'Global (Microsoft Graph)', value: 'global' },
				{ name: 'US Government L4 (GCC High)', value: 'usGovL4' },
				{ name: 'US Government L5 (DoD)', value: 'usGovL5' },
				{ name: 'China (Operated by 21Vianet)', value: 'china' },
				{ name: 'Custom', value: 'custom', description: 'A private endpoint or a local simulator' },
			],
			default: 'global',
		},
		{
			displayName: 'Login Host',
			name: 'customLoginHost',
			type: 'string',
			default: '',
			placeholder: 'https://login.example.com',
			description: 'The Entra ID host, without the tenant; it must use HTTPS',
			displayOptions: { show: { cloud: ['custom'] } },
		},
		{
			displayName: 'Graph Base URL',
			name: 'customGraphBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://graph.example.com',
			description: 'Microsoft Graph, before the version segment; it must use HTTPS',
			displayOptions: { show: { cloud: ['custom'] } },
		},
		{
			displayName: 'Tenant ID',
			name: 'tenantId',
			type: 'string',
			default: '',
			required: true,
			placeholder: '00000000-0000-0000-0000-000000000000',
			description:
				'Directory (tenant) ID from the app registration\'s Overview page, or the tenant\'s domain',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			placeholder: '00000000-0000-0000-0000-000000000000',
			description: 'Application (client) ID from the app registration\'s Overview page',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{ name: 'Client Secret', value: 'clientSecret' },
				{ name: 'Client Certificate', value: 'clientCertificate' },
			],
			default: 'clientSecret',
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The secret\'s Value (not its Secret ID), from Certificates & secrets',
			displayOptions: { show: { authentication: ['clientSecret'] } },
		},
		...certificateInputProperties('', 'Client Certificate', whenCertificate),
		{
			displayName: 'Send Certificate Chain (X5c)',
			name: 'sendX5c',
			type: 'boolean',
			default: false,
			description:
				'Whether to send the certificate chain with each sign-in, for apps set up for subject name and issuer authentication',
			displayOptions: whenCertificate,
		},
	];
}
