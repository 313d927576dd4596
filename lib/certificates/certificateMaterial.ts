import { createHash, X509Certificate, type KeyObject } from 'node:crypto';

import { CertificateInputError } from './errors';
import { normalisePem, splitCertificatePems } from './pem';
import { readPfx } from './readPfx';
import { readPrivateKey } from './readPrivateKey';

export type CertificateInput =
	| { format: 'pem'; certificatePem: string; privateKeyPem: string; passphrase?: string }
	| { format: 'pfx'; pfxBase64: string; password?: string };

/** A certificate with the private key that belongs to it, in the forms Graph, MSAL and Node want. */
export interface CertificateMaterial {
	certificate: X509Certificate;
	/** The leaf first, then any chain certificates that came with it. */
	chainPems: string[];
	/** Base64 DER of the leaf, as Graph's `encryptionCertificate` and a JWT `x5c` entry want it. */
	certificateDerBase64: string;
	privateKey: KeyObject;
	/** Unencrypted PKCS#8 PEM, the only private-key form MSAL accepts. */
	privateKeyPkcs8Pem: string;
	/** Hex, upper case, no colons: hashes over the certificate's DER, not the public key. */
	thumbprintSha1: string;
	thumbprintSha256: string;
}

function parseCertificates(pems: string[]): X509Certificate[] {
	if (pems.length === 0) {
		throw new CertificateInputError(
			'No certificate found: paste the PEM certificate, starting with "-----BEGIN CERTIFICATE-----"',
		);
	}
	return pems.map((pem) => {
		try {
			return new X509Certificate(pem);
		} catch {
			throw new CertificateInputError(
				'The certificate could not be read: check that the whole PEM block was pasted',
			);
		}
	});
}

export function loadCertificateMaterial(input: CertificateInput): CertificateMaterial {
	let privateKey: KeyObject;
	let certificatePems: string[];
	if (input.format === 'pfx') {
		const pfx = readPfx(input.pfxBase64, input.password ?? '');
		privateKey = readPrivateKey(pfx.privateKeyPem);
		certificatePems = pfx.certificatePems;
	} else {
		privateKey = readPrivateKey(input.privateKeyPem, input.passphrase);
		certificatePems = splitCertificatePems(input.certificatePem ?? '');
	}
	if (privateKey.asymmetricKeyType !== 'rsa') {
		throw new CertificateInputError(
			`The key is ${privateKey.asymmetricKeyType ?? 'not RSA'}; Microsoft Graph and Entra ID need an RSA key`,
		);
	}

	const certificates = parseCertificates(certificatePems);
	const leafIndex = certificates.findIndex((cert) => cert.checkPrivateKey(privateKey));
	if (leafIndex < 0) {
		throw new CertificateInputError(
			'The private key does not belong to the certificate: use the key that was generated with this certificate',
		);
	}
	const leaf = certificates[leafIndex];
	const chainPems = [
		certificatePems[leafIndex],
		...certificatePems.filter((_, index) => index !== leafIndex),
	].map(normalisePem);

	return {
		certificate: leaf,
		chainPems,
		certificateDerBase64: leaf.raw.toString('base64'),
		privateKey,
		privateKeyPkcs8Pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
		thumbprintSha1: createHash('sha1').update(leaf.raw).digest('hex').toUpperCase(),
		thumbprintSha256: createHash('sha256').update(leaf.raw).digest('hex').toUpperCase(),
	};
}
