import {
	constants,
	createDecipheriv,
	createHmac,
	privateDecrypt,
	timingSafeEqual,
	type KeyObject,
} from 'node:crypto';

import type { DecryptionKeyRing } from './decryptionKeyRing';
import {
	BadPaddingError,
	MalformedEncryptedContentError,
	NotJsonError,
	SignatureMismatchError,
	UnknownCertificateIdError,
	WrongKeyError,
} from './errors';

/** Graph's `encryptedContent` on a rich notification. */
export interface EncryptedContent {
	data: string;
	dataKey: string;
	dataSignature: string;
	encryptionCertificateId: string;
	encryptionCertificateThumbprint?: string;
}

const SYMMETRIC_KEY_BYTES = 32;
const IV_BYTES = 16;
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

function unwrapSymmetricKey(privateKey: KeyObject, wrappedKey: Buffer): Buffer {
	let key: Buffer;
	try {
		// Graph wraps the key with RSA-OAEP using SHA-1 and MGF1-SHA-1 (RSA/ECB/OAEPWithSHA1AndMGF1Padding).
		key = privateDecrypt(
			{ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
			wrappedKey,
		);
	} catch {
		throw new WrongKeyError(
			'The data key could not be decrypted with this certificate\'s private key (the notification was encrypted for another key, or altered)',
		);
	}
	if (key.length !== SYMMETRIC_KEY_BYTES) {
		throw new WrongKeyError('The decrypted data key has the wrong length');
	}
	return key;
}

/**
 * Opens a Graph rich notification exactly as Graph seals it: the HMAC-SHA256 over the ciphertext is
 * checked in constant time before any AES work, so altered content is refused without being decrypted.
 */
export function decryptEncryptedContent(encrypted: unknown, keyRing: DecryptionKeyRing): unknown {
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

	const wrappedKey = readBase64Field(content, 'dataKey');
	const ciphertext = readBase64Field(content, 'data');
	const expectedSignature = readBase64Field(content, 'dataSignature');

	const key = unwrapSymmetricKey(privateKey, wrappedKey);
	const actualSignature = createHmac('sha256', key).update(ciphertext).digest();
	if (
		expectedSignature.length !== actualSignature.length ||
		!timingSafeEqual(expectedSignature, actualSignature)
	) {
		throw new SignatureMismatchError('dataSignature does not match the data: the content was altered');
	}

	let plaintext: Buffer;
	try {
		const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, IV_BYTES));
		plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
	} catch {
		throw new BadPaddingError('The decrypted data has invalid padding');
	}
	try {
		return JSON.parse(plaintext.toString('utf8'));
	} catch {
		throw new NotJsonError('The decrypted data is not JSON');
	}
}
