import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

import { CertificateInputError } from './errors';

export type RsaKeySize = 2048 | 3072 | 4096;
export const RSA_KEY_SIZES: readonly RsaKeySize[] = [2048, 3072, 4096];

export interface GenerateCertificateOptions {
	keySize?: RsaKeySize;
	/** Distinguished name such as "CN=n8n Teams calls, O=Contoso". */
	subject?: string;
	validityDays?: number;
	/** Protects the PFX; empty means a PFX without a password. */
	pfxPassword?: string;
	now?: Date;
}

export interface GeneratedCertificate {
	certificatePem: string;
	/** Unencrypted PKCS#8 PEM. */
	privateKeyPem: string;
	pfx: Buffer;
	certificateDerBase64: string;
	thumbprintSha1: string;
	thumbprintSha256: string;
	notAfter: Date;
}

const SUBJECT_ATTRIBUTES: Record<string, string> = {
	CN: 'commonName',
	O: 'organizationName',
	OU: 'organizationalUnitName',
	C: 'countryName',
	ST: 'stateOrProvinceName',
	L: 'localityName',
};

export function parseSubject(subject: string): forge.pki.CertificateField[] {
	const fields = subject
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean)
		.map((part) => {
			const separator = part.indexOf('=');
			const key = part.slice(0, separator).trim().toUpperCase();
			const value = part.slice(separator + 1).trim();
			const name = SUBJECT_ATTRIBUTES[key];
			if (separator <= 0 || !name || !value) {
				throw new CertificateInputError(
					`Cannot use "${part}" in a subject; write it like "CN=n8n Teams calls, O=Contoso" (allowed: ${Object.keys(SUBJECT_ATTRIBUTES).join(', ')})`,
				);
			}
			return { name, value };
		});
	if (!fields.some((field) => field.name === 'commonName')) {
		throw new CertificateInputError('The subject needs a common name, for example "CN=n8n Teams calls"');
	}
	return fields;
}

/**
 * A self-signed RSA certificate usable both to encrypt Graph notifications (keyEncipherment) and to
 * sign Entra ID client assertions (digitalSignature). Node generates the key; node-forge, which can
 * write X.509 and PKCS#12 where Node cannot, builds the certificate and the PFX.
 */
export function generateSelfSignedCertificate(
	options: GenerateCertificateOptions = {},
): GeneratedCertificate {
	const keySize = options.keySize ?? 2048;
	if (!RSA_KEY_SIZES.includes(keySize)) {
		throw new CertificateInputError(`Key size must be one of ${RSA_KEY_SIZES.join(', ')}`);
	}
	const validityDays = options.validityDays ?? 365;
	if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 3650) {
		throw new CertificateInputError('Validity must be a whole number of days from 1 to 3650');
	}
	const subject = parseSubject(options.subject ?? 'CN=n8n Teams call notifications');
	const now = options.now ?? new Date();

	const { privateKey } = generateKeyPairSync('rsa', { modulusLength: keySize });
	const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
	const forgeKey = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;

	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
	// A positive serial: the leading 0x01 keeps the ASN.1 INTEGER from reading as negative.
	cert.serialNumber = '01' + randomBytes(15).toString('hex');
	cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
	cert.validity.notAfter = new Date(now.getTime() + validityDays * 86_400_000);
	cert.setSubject(subject);
	cert.setIssuer(subject);
	cert.setExtensions([
		{ name: 'basicConstraints', cA: false },
		{ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, dataEncipherment: true },
		{ name: 'subjectKeyIdentifier' },
	]);
	cert.sign(forgeKey, forge.md.sha256.create());

	const certificatePem = forge.pki.certificateToPem(cert);
	const pfxAsn1 = forge.pkcs12.toPkcs12Asn1(forgeKey, [cert], options.pfxPassword || null, {
		algorithm: '3des',
		friendlyName: String(subject.find((field) => field.name === 'commonName')?.value ?? ''),
	});
	const pfx = Buffer.from(forge.asn1.toDer(pfxAsn1).getBytes(), 'binary');
	const der = new X509Certificate(certificatePem).raw;

	return {
		certificatePem,
		privateKeyPem,
		pfx,
		certificateDerBase64: der.toString('base64'),
		thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
		thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
		notAfter: cert.validity.notAfter,
	};
}
