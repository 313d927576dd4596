/**
 * Runs `work` for each item, at most `limit` at once, and returns each item's outcome in input order.
 * A failure of one item never stops the others.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function mapWithConcurrency<I, T>(
	items: readonly I[],
	limit: number,
	work: (item: I, index: number) => Promise<T>,
): Promise<Array<Outcome<T>>> {
	const outcomes: Array<Outcome<T>> = new Array(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			try {
				outcomes[index] = { ok: true, value: await work(items[index], index) };
			} catch (error) {
				outcomes[index] = { ok: false, error };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
	return outcomes;
}
