import { availableParallelism } from 'node:os';

import { KeyUnwrapPool } from './keyUnwrapPool';

/**
 * Set to 0 to keep all decryption on n8n's main thread (for hosts that forbid worker threads), or to a
 * number of threads. By default one per CPU, at most 4: beyond that, n8n's own work needs the cores.
 */
export const DECRYPT_THREADS_VARIABLE = 'N8N_TEAMS_CALLS_DECRYPT_THREADS';
const MAX_DEFAULT_THREADS = 4;

let shared: KeyUnwrapPool | null | undefined;

export function decryptThreadCount(environment: NodeJS.ProcessEnv = process.env): number {
	const configured = environment[DECRYPT_THREADS_VARIABLE]?.trim();
	if (configured) {
		const threads = Number(configured);
		if (Number.isInteger(threads) && threads >= 0) return Math.min(threads, 64);
	}
	return Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
}

/** One pool per n8n process, shared by every trigger; null when decryption stays on the main thread. */
export function sharedKeyUnwrapPool(): KeyUnwrapPool | null {
	if (shared === undefined) {
		const size = decryptThreadCount();
		shared = size > 0 ? new KeyUnwrapPool({ size }) : null;
	}
	return shared;
}
