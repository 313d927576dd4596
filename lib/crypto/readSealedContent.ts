import type { KeyObject } from 'node:crypto';

import type { DecryptionKeyRing } from './decryptionKeyRing';
import { MalformedEncryptedContentError, UnknownCertificateIdError } from './errors';

/** Graph's `encryptedContent` on a rich notification. */
export interface EncryptedContent {
	data: string;
	dataKey: string;
	dataSignature: string;
	encryptionCertificateId: string;
	encryptionCertificateThumbprint?: string;
}

/** An `encryptedContent` whose fields have been checked and decoded, with the private key it names. */
export interface SealedContent {
	privateKey: KeyObject;
	wrappedKey: Buffer;
	ciphertext: Buffer;
	expectedSignature: Buffer;
}

function readBase64Field(content: Record<string, unknown>, field: keyof EncryptedContent): Buffer {
	const value = content[field];
	// Node's decoder skips characters outside the alphabet, so a decoded length short of what the text's
	// length promises means it was not base64. Cheaper than a regular expression over the field, which
	// on this path costs as much as the AES step.
	const decoded = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
	if (!decoded || decoded.length === 0 || decoded.length !== Buffer.byteLength(value as string, 'base64')) {
		throw new MalformedEncryptedContentError(`encryptedContent.${field} is missing or not base64`);
	}
	return decoded;
}

/** Checks the shape of untrusted `encryptedContent` and finds its key; no cryptography yet. */
export function readSealedContent(encrypted: unknown, keyRing: DecryptionKeyRing): SealedContent {
	if (typeof encrypted !== 'object' || encrypted === null || Array.isArray(encrypted)) {
		throw new MalformedEncryptedContentError('encryptedContent is not an object');
	}
	const content = encrypted as Record<string, unknown>;
	const certificateId = content.encryptionCertificateId;
	if (typeof certificateId !== 'string' || certificateId.length === 0) {
		throw new MalformedEncryptedContentError('encryptedContent.encryptionCertificateId is missing');
	}
	const privateKey = keyRing.keyFor(certificateId);
	if (!privateKey) throw new UnknownCertificateIdError(certificateId);
	return {
		privateKey,
		wrappedKey: readBase64Field(content, 'dataKey'),
		ciphertext: readBase64Field(content, 'data'),
		expectedSignature: readBase64Field(content, 'dataSignature'),
	};
}
