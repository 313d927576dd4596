import { sleep } from 'n8n-workflow';

import type { FetchJson } from './signingKeyCache';

/** Waits between attempts; the batch was already answered, so only its workflow run waits. */
export const SIGNING_KEY_RETRY_DELAYS_MS = [1000, 4000];

/**
 * A fetch that tries again after each delay before giving up with the last error. Used for the identity
 * platform's signing keys: a batch that cannot be verified is dropped, so one failed request must not
 * cost the call events in it.
 */
export function retryFetch(fetchJson: FetchJson, delaysMs: readonly number[] = SIGNING_KEY_RETRY_DELAYS_MS): FetchJson {
	return async (url) => {
		for (let attempt = 0; ; attempt++) {
			try {
				return await fetchJson(url);
			} catch (error) {
				if (attempt >= delaysMs.length) {
					throw new Error(`${error instanceof Error ? error.message : String(error)} (${attempt + 1} attempts)`, { cause: error });
				}
				await sleep(delaysMs[attempt]);
			}
		}
	};
}
