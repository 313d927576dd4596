import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

import { certificateInputProperties } from '../lib/credentials/certificateInputFields';

const whenKeepingPrevious = { show: { keepPrevious: [true] } };

/**
 * The certificate Graph encrypts call notifications with. Graph gets the public part; the private
 * key stays here and decrypts each notification. Tested by the trigger's credential test.
 */
export class MicrosoftGraphNotificationCertificateApi implements ICredentialType {
	name = 'microsoftGraphNotificationCertificateApi';

	displayName = 'Microsoft Graph Notification Encryption Certificate API';

	icon: Icon = { light: 'file:certificate.svg', dark: 'file:certificate.dark.svg' };

	documentationUrl =
		'https://learn.microsoft.com/en-us/graph/change-notifications-with-resource-data';

	properties: INodeProperties[] = [
		{
			displayName:
				'Create a certificate with: npx n8n-nodes-teams-calls generate-certificate --out ./cert (RSA 2048 to 4096 bits)',
			name: 'notice',
			type: 'notice',
			default: '',
		},
		...certificateInputProperties('', 'Certificate'),
		{
			displayName: 'Certificate ID',
			name: 'certificateId',
			type: 'string',
			default: '',
			placeholder: 'Derived from the thumbprint',
			description:
				'Up to 128 characters; Graph sends it back with each notification to say which key to use. Leave empty to derive it from the SHA-256 thumbprint.',
		},
		{
			displayName: 'Keep Previous Certificate',
			name: 'keepPrevious',
			type: 'boolean',
			default: false,
			description:
				'Whether to keep decrypting with the previous certificate while subscriptions move to the new one (certificate rotation)',
		},
		...certificateInputProperties('previous', 'Previous Certificate', whenKeepingPrevious),
		{
			displayName: 'Previous Certificate ID',
			name: 'previousCertificateId',
			type: 'string',
			default: '',
			placeholder: 'Derived from the thumbprint',
			description: 'The ID the previous certificate was used with; leave empty if it was derived',
			displayOptions: whenKeepingPrevious,
		},
	];
}
