import { createPrivateKey, type KeyObject } from 'node:crypto';

import { CertificateInputError } from './errors';
import { normalisePem } from './pem';

/**
 * Reads a PEM private key: PKCS#1 ("RSA PRIVATE KEY"), PKCS#8 ("PRIVATE KEY") or encrypted PKCS#8
 * ("ENCRYPTED PRIVATE KEY", with its passphrase). OpenSSL does the parsing.
 */
export function readPrivateKey(pem: string, passphrase?: string): KeyObject {
	const text = normalisePem(pem);
	if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
		throw new CertificateInputError(
			'The private key is not in PEM format: it should start with "-----BEGIN PRIVATE KEY-----" (or RSA / ENCRYPTED PRIVATE KEY)',
		);
	}
	// Encrypted PKCS#8, or legacy PKCS#1 with a "Proc-Type: 4,ENCRYPTED" header.
	const encrypted = text.includes('ENCRYPTED');
	if (encrypted && !passphrase) {
		throw new CertificateInputError('The private key is encrypted: enter its passphrase');
	}
	try {
		return createPrivateKey(encrypted ? { key: text, format: 'pem', passphrase } : text);
	} catch {
		throw new CertificateInputError(
			encrypted
				? 'The private key could not be decrypted: the passphrase is wrong'
				: 'The private key could not be read: check that the whole PEM block was pasted',
		);
	}
}
