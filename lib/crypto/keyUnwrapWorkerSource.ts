/**
 * The code each key-unwrap worker thread runs: RSA-OAEP-SHA1 private decryption of a list of wrapped
 * data keys, nothing else. Kept as a self-contained string so the same code runs from `dist/` and from
 * the TypeScript sources under test, with no file path to resolve inside n8n's custom-extension folders.
 * A failed job answers null, never an error text, so nothing about the key can leave the worker.
 */
export const KEY_UNWRAP_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { constants, privateDecrypt } = require('node:crypto');
parentPort.on('message', (message) => {
	const results = message.jobs.map((job) => {
		try {
			// Copied into memory of its own, so the reply carries these bytes and nothing beside them.
			return new Uint8Array(
				privateDecrypt(
					{ key: message.keys[job[0]], padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
					job[1],
				),
			);
		} catch {
			return null;
		}
	});
	parentPort.postMessage({ id: message.id, results });
});
`;
