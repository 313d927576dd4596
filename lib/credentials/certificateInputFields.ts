import type { ICredentialDataDecryptedObject, INodeProperties } from 'n8n-workflow';

import type { CertificateInput } from '../certificates/certificateMaterial';

/**
 * The form for "a certificate with its private key, as PEM or as a PFX", used by both credentials
 * (and twice by the notification certificate, for the current and the previous one). A prefix keeps
 * the field names apart: "" gives certificatePem, "previous" gives previousCertificatePem.
 */
export function fieldName(prefix: string, name: string): string {
	return prefix ? prefix + name.charAt(0).toUpperCase() + name.slice(1) : name;
}

type DisplayOptions = INodeProperties['displayOptions'];

function shownWhen(base: DisplayOptions, prefix: string, format: 'pem' | 'pfx'): DisplayOptions {
	return { show: { ...(base?.show ?? {}), [fieldName(prefix, 'certificateFormat')]: [format] } };
}

export function certificateInputProperties(
	prefix: string,
	label: string,
	displayOptions?: DisplayOptions,
): INodeProperties[] {
	return [
		{
			displayName: `${label} Format`,
			name: fieldName(prefix, 'certificateFormat'),
			type: 'options',
			options: [
				{ name: 'PEM Certificate and Private Key', value: 'pem' },
				{ name: 'PFX / PKCS#12 (Base64)', value: 'pfx' },
			],
			default: 'pem',
			displayOptions,
		},
		{
			displayName: `${label} (PEM)`,
			name: fieldName(prefix, 'certificatePem'),
			type: 'string',
			typeOptions: { rows: 4 },
			default: '',
			placeholder: '-----BEGIN CERTIFICATE-----',
			description: 'The public certificate, with any chain certificates after it',
			displayOptions: shownWhen(displayOptions, prefix, 'pem'),
		},
		{
			displayName: 'Private Key (PEM)',
			name: fieldName(prefix, 'privateKeyPem'),
			type: 'string',
			typeOptions: { rows: 4, password: true },
			default: '',
			placeholder: '-----BEGIN PRIVATE KEY-----',
			description: 'PKCS#8 ("BEGIN PRIVATE KEY"), PKCS#1 ("BEGIN RSA PRIVATE KEY") or encrypted PKCS#8',
			displayOptions: shownWhen(displayOptions, prefix, 'pem'),
		},
		{
			displayName: 'Private Key Passphrase',
			name: fieldName(prefix, 'privateKeyPassphrase'),
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Only for an encrypted private key ("BEGIN ENCRYPTED PRIVATE KEY")',
			displayOptions: shownWhen(displayOptions, prefix, 'pem'),
		},
		{
			displayName: 'PFX (Base64)',
			name: fieldName(prefix, 'pfxBase64'),
			type: 'string',
			typeOptions: { rows: 4, password: true },
			default: '',
			description: 'The .pfx or .p12 file as base64, for example from: base64 -w0 certificate.pfx',
			displayOptions: shownWhen(displayOptions, prefix, 'pfx'),
		},
		{
			displayName: 'PFX Password',
			name: fieldName(prefix, 'pfxPassword'),
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: shownWhen(displayOptions, prefix, 'pfx'),
		},
	];
}

function stringField(data: ICredentialDataDecryptedObject, name: string): string {
	const value = data[name];
	return typeof value === 'string' ? value : '';
}

export function readCertificateInput(
	data: ICredentialDataDecryptedObject,
	prefix = '',
): CertificateInput {
	const field = (name: string) => stringField(data, fieldName(prefix, name));
	if (field('certificateFormat') === 'pfx') {
		return { format: 'pfx', pfxBase64: field('pfxBase64'), password: field('pfxPassword') };
	}
	return {
		format: 'pem',
		certificatePem: field('certificatePem'),
		privateKeyPem: field('privateKeyPem'),
		passphrase: field('privateKeyPassphrase'),
	};
}
