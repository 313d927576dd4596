import type { DecryptionKeyRing } from './decryptionKeyRing';
import { openSealedContent } from './openSealedContent';
import { readSealedContent } from './readSealedContent';
import { unwrapSymmetricKey } from './unwrapSymmetricKey';

export type { EncryptedContent } from './readSealedContent';

/** Opens one Graph rich notification exactly as Graph seals it, on the calling thread. */
export function decryptEncryptedContent(encrypted: unknown, keyRing: DecryptionKeyRing): unknown {
	const sealed = readSealedContent(encrypted, keyRing);
	return openSealedContent(sealed, unwrapSymmetricKey(sealed.privateKey, sealed.wrappedKey));
}
