import { sleep } from 'n8n-workflow';

import { TokenRequestError } from '../../auth/tokenRequestError';
import { readCallRecord } from '../../callRecords/readCallRecord';
import type { Limiter } from '../../concurrency/limiter';
import type { RecordReadOutcome } from '../../delivery/triggerRuntime';
import { GraphApiError } from '../../graph/graphApiError';
import type { GraphClient } from '../../graph/graphClient';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

/** Where a read gets its Graph client, and another one after Entra ID refused the first one's credential. */
export interface ReadingGraph {
	client(): Promise<GraphClient>;
	/** A client on the credential as it is now, or undefined when there is no other to try. */
	afterTokenError(failed: GraphClient): Promise<GraphClient | undefined>;
}

/**
 * Reads one record, asking again while Graph answers 404 (a new record can be unreadable for a while)
 * or keeps failing in a way worth retrying (GraphClient already honours Retry-After and backs off on 5xx
 * in place), until `waitMs` is spent. A token refused for the credential (a secret rotated since it was
 * cached) is tried once more with the credential read again. Each attempt takes a place in the trigger's
 * read limit and gives it back before waiting, so records Graph cannot return yet never hold back
 * readable ones.
 */
export async function readWhenAvailable(
	limiter: Limiter,
	graph: ReadingGraph,
	id: string,
	includeSessions: boolean,
	waitMs: number,
): Promise<RecordReadOutcome> {
	const deadline = Date.now() + waitMs;
	let backoff = FIRST_RETRY_MS;
	let client: GraphClient | undefined;
	for (;;) {
		let outcome: RecordReadOutcome;
		let waitFor = backoff;
		try {
			const record = await limiter.run(async () => readCallRecord((client ??= await graph.client()), id, { includeSessions }));
			if (record) return { record };
			outcome = { notFound: true };
		} catch (error) {
			if (error instanceof TokenRequestError && !error.retryable && client) {
				const next = await graph.afterTokenError(client).catch((reread: unknown) => reread as Error);
				if (next instanceof Error) return { error: next };
				if (!next) return { error };
				client = next;
				continue;
			}
			if (!(error instanceof GraphApiError) || !error.isRetryable) return { error: error as Error };
			outcome = { error };
			if (error.retryAfterSeconds !== undefined) waitFor = Math.max(waitFor, error.retryAfterSeconds * 1000);
		}
		if (Date.now() + waitFor > deadline) return outcome;
		await sleep(waitFor);
		backoff = Math.min(backoff * 2, MAX_RETRY_MS);
	}
}
