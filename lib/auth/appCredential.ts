import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { CertificateInput } from '../certificates/certificateMaterial';
import { readCertificateInput } from '../credentials/certificateInputFields';
import { resolveCloudEndpoints, type CloudEndpoints, type CloudName } from '../clouds';

/** The app registration, as our code uses it: validated and with the cloud resolved. */
export interface AppCredential {
	tenantId: string;
	clientId: string;
	endpoints: CloudEndpoints;
	auth:
		| { type: 'clientSecret'; clientSecret: string }
		| { type: 'clientCertificate'; certificate: CertificateInput; sendCertificateChain: boolean };
}

export class AppCredentialError extends Error {
	override name = 'AppCredentialError';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/i;
const MULTI_TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

function text(data: ICredentialDataDecryptedObject, field: string): string {
	const value = data[field];
	return typeof value === 'string' ? value.trim() : '';
}

function readTenantId(data: ICredentialDataDecryptedObject): string {
	const tenantId = text(data, 'tenantId');
	if (!tenantId) throw new AppCredentialError('Enter the Directory (tenant) ID of the app registration');
	if (MULTI_TENANT_ALIASES.has(tenantId.toLowerCase())) {
		throw new AppCredentialError(
			`"${tenantId}" is not a tenant: app-only sign-in needs the tenant's own ID (a GUID) or its domain, such as contoso.onmicrosoft.com`,
		);
	}
	if (!GUID.test(tenantId) && !DOMAIN.test(tenantId)) {
		throw new AppCredentialError(
			'The Tenant ID must be a GUID (Directory (tenant) ID on the app\'s Overview page) or a domain such as contoso.onmicrosoft.com',
		);
	}
	return tenantId;
}

function readClientId(data: ICredentialDataDecryptedObject): string {
	const clientId = text(data, 'clientId');
	if (!GUID.test(clientId)) {
		throw new AppCredentialError(
			'The Client ID must be the Application (client) ID GUID from the app registration\'s Overview page',
		);
	}
	return clientId;
}

export function readAppCredential(data: ICredentialDataDecryptedObject): AppCredential {
	const cloud = (text(data, 'cloud') || 'global') as CloudName;
	const endpoints = resolveCloudEndpoints(cloud, {
		loginHost: text(data, 'customLoginHost'),
		graphBaseUrl: text(data, 'customGraphBaseUrl'),
	});
	const base = { tenantId: readTenantId(data), clientId: readClientId(data), endpoints };

	if (text(data, 'authentication') === 'clientCertificate') {
		return {
			...base,
			auth: {
				type: 'clientCertificate',
				certificate: readCertificateInput(data),
				sendCertificateChain: data.sendX5c === true,
			},
		};
	}
	const clientSecret = typeof data.clientSecret === 'string' ? data.clientSecret : '';
	if (!clientSecret) {
		throw new AppCredentialError(
			'Enter the client secret\'s Value (Certificates & secrets in the app registration)',
		);
	}
	return { ...base, auth: { type: 'clientSecret', clientSecret } };
}
