import forge from 'node-forge';

import { CertificateInputError } from './errors';

export interface PfxContents {
	/** Unencrypted PKCS#8 PEM. */
	privateKeyPem: string;
	certificatePems: string[];
}

function decodeBase64Pfx(pfxBase64: string): Buffer {
	const compact = pfxBase64.replace(/\s+/g, '');
	if (!compact || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
		throw new CertificateInputError(
			'The PFX must be pasted as base64 (for example the output of: base64 -w0 certificate.pfx)',
		);
	}
	return Buffer.from(compact, 'base64');
}

/**
 * "No password" means different things to different tools: an empty password, or none at all
 * (forge and some exports). OpenSSL accepts either, so do we.
 */
function openPfx(asn1: forge.asn1.Asn1, password: string): forge.pkcs12.Pkcs12Pfx {
	const candidates: Array<string | null> = password ? [password] : ['', null];
	let wrongPassword = false;
	for (const candidate of candidates) {
		try {
			return forge.pkcs12.pkcs12FromAsn1(asn1, false, candidate as string);
		} catch (error) {
			const text = error instanceof Error ? error.message : '';
			wrongPassword ||= /MAC could not be verified|Invalid password/i.test(text);
		}
	}
	if (wrongPassword) {
		throw new CertificateInputError(
			password ? 'The PFX password is wrong' : 'The PFX is protected by a password: enter it',
		);
	}
	throw new CertificateInputError(
		'The PFX could not be read: it is not a PKCS#12 file, or it uses a key type other than RSA',
	);
}

/**
 * Node cannot read PKCS#12, so node-forge opens the PFX (modern AES/PBKDF2 and the legacy RC2/3DES
 * files that Windows exports) and hands back PEM for Node's crypto to use from then on.
 */
export function readPfx(pfxBase64: string, password = ''): PfxContents {
	const der = decodeBase64Pfx(pfxBase64);
	let asn1: forge.asn1.Asn1;
	try {
		asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
	} catch {
		throw new CertificateInputError('The PFX could not be read: it is not a PKCS#12 file');
	}
	const p12 = openPfx(asn1, password);

	const oids = forge.pki.oids;
	const keyBags = [
		...(p12.getBags({ bagType: oids.pkcs8ShroudedKeyBag })[oids.pkcs8ShroudedKeyBag] ?? []),
		...(p12.getBags({ bagType: oids.keyBag })[oids.keyBag] ?? []),
	];
	const key = keyBags.find((bag) => bag.key)?.key;
	if (!key) {
		throw new CertificateInputError(
			'The PFX holds no RSA private key: export it again with the private key included',
		);
	}
	const certificatePems = (p12.getBags({ bagType: oids.certBag })[oids.certBag] ?? [])
		.filter((bag) => bag.cert)
		.map((bag) => forge.pki.certificateToPem(bag.cert as forge.pki.Certificate));
	if (certificatePems.length === 0) {
		throw new CertificateInputError('The PFX holds no certificate');
	}
	const privateKeyPem = forge.pki.privateKeyInfoToPem(
		forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key)),
	);
	return { privateKeyPem, certificatePems };
}
