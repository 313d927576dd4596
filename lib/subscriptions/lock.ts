/**
 * Serialises subscription work for one trigger inside this process: the renewal timer, an activation
 * check and a lifecycle notification could otherwise each find a subscription missing and each
 * create one.
 */
const tails = new Map<string, Promise<unknown>>();

export async function withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
	const previous = tails.get(key) ?? Promise.resolve();
	const run = previous.then(work, work);
	const tail = run.catch(() => undefined);
	tails.set(key, tail);
	try {
		return await run;
	} finally {
		if (tails.get(key) === tail) tails.delete(key);
	}
}

/** What a process restart does to the locks: the work that held them is gone with the process; for tests. */
export function forgetLocks(): void {
	tails.clear();
}
