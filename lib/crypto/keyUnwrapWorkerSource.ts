import { SYMMETRIC_KEY_BYTES } from './unwrapSymmetricKey';

/**
 * The code each key-unwrap worker thread runs: RSA-OAEP-SHA1 private decryption of a chunk of wrapped
 * data keys, nothing else. Kept as a self-contained string so the same code runs from `dist/` and from
 * the TypeScript sources under test, with no file path to resolve inside n8n's custom-extension folders.
 *
 * A chunk arrives as one buffer of wrapped keys with their offsets, and leaves as one buffer of 32-byte
 * keys with a flag per job; both buffers are transferred, not copied. A failed job is only a 0 flag,
 * never an error text, so nothing about the key can leave the worker.
 */
export const KEY_UNWRAP_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { privateDecrypt } = require('node:crypto');
const KEY_BYTES = ${SYMMETRIC_KEY_BYTES};
parentPort.on('message', (message) => {
	const count = message.keyIndexes.length;
	const keys = new Uint8Array(count * KEY_BYTES);
	const ok = new Uint8Array(count);
	for (let job = 0; job < count; job++) {
		try {
			// privateDecrypt's default is RSA-OAEP with SHA-1, as Graph wraps the key (see unwrapSymmetricKey.ts).
			const key = privateDecrypt(
				message.keys[message.keyIndexes[job]],
				message.wrapped.subarray(message.offsets[job], message.offsets[job + 1]),
			);
			if (key.length === KEY_BYTES) {
				keys.set(key, job * KEY_BYTES);
				ok[job] = 1;
			}
		} catch {
			// Left as 0: the caller reports a wrong key.
		}
	}
	parentPort.postMessage({ id: message.id, keys, ok }, [keys.buffer, ok.buffer]);
});
`;
