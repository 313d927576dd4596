import { privateDecrypt, type KeyObject } from 'node:crypto';

import { WrongKeyError } from './errors';

export const SYMMETRIC_KEY_BYTES = 32;

export const WRONG_KEY_MESSAGE =
	"The data key could not be decrypted with this certificate's private key (the notification was encrypted for another key, or altered)";

/** The RSA step, on the calling thread: the one expensive operation of a notification. */
export function unwrapSymmetricKey(privateKey: KeyObject, wrappedKey: Buffer): Buffer {
	let key: Buffer;
	try {
		// Graph wraps the key with RSA-OAEP using SHA-1 and MGF1-SHA-1 (RSA/ECB/OAEPWithSHA1AndMGF1Padding),
		// which is exactly privateDecrypt's documented default (RSA_PKCS1_OAEP_PADDING, oaepHash 'sha1'). The key
		// goes in bare because on Node 24 (n8n 2.41's runtime) an options object costs 7–17 % of the RSA step in
		// key-type checks. A test pins the default: a PKCS#1 v1.5-wrapped key is refused.
		key = privateDecrypt(privateKey, wrappedKey);
	} catch {
		throw new WrongKeyError(WRONG_KEY_MESSAGE);
	}
	if (key.length !== SYMMETRIC_KEY_BYTES) {
		throw new WrongKeyError('The decrypted data key has the wrong length');
	}
	return key;
}
