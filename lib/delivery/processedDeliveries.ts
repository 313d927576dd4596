import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

/**
 * How many identities n8n's store keeps per trigger: the oldest go first. Graph redelivers for up to 4 hours,
 * and a call record may be notified again much later, so this is a count, not a time; the whole list is read
 * and written once per execution (BENCHMARKS.md measures the cost).
 */
export const PROCESSED_CAPACITY = 25_000;

const OPTIONS = { mode: 'entries', maxEntries: PROCESSED_CAPACITY } as const;

/**
 * What this trigger has run, kept in n8n's own database (`this.helpers.checkProcessedAndRecord`, the store of
 * the Remove Duplicates node): shared by every n8n process and surviving restarts. n8n reads, changes and
 * writes one row per node without a lock, so calls from this process are made one at a time; two
 * executions at the same instant on two workers may still both find an identity new (README, Limits).
 * Manual runs ("Listen for test event") neither read nor record: test and production stay apart.
 */
export class ProcessedDeliveries {
	private tail: Promise<unknown> = Promise.resolve();

	/**
	 * For each item, given its identities (none: it cannot be told apart, and runs), whether it is seen here
	 * for the first time: no identity of it is in the store, nor shared with an earlier item of the call.
	 * Records every identity. Throws a NodeOperationError when n8n's store cannot be used.
	 */
	async firstSightings(context: IExecuteFunctions, identitiesPerItem: string[][]): Promise<boolean[]> {
		const unique = [...new Set(identitiesPerItem.flat())];
		const processed = unique.length === 0 || context.getMode() === 'manual' ? new Set<string>() : await this.check(context, unique);
		const seenInCall = new Set<string>();
		return identitiesPerItem.map((identities) => {
			const first = identities.every((identity) => !processed.has(identity) && !seenInCall.has(identity));
			identities.forEach((identity) => seenInCall.add(identity));
			return first;
		});
	}

	/** The items seen here for the first time (see firstSightings), in order. */
	async keepFirstSightings<T>(context: IExecuteFunctions, candidates: Array<{ item: T; identities: string[] }>): Promise<T[]> {
		const first = await this.firstSightings(context, candidates.map(({ identities }) => identities));
		return candidates.filter((_, index) => first[index]).map(({ item }) => item);
	}

	/** Processed identities of `identities`, as n8n's store answers; records the rest. */
	async processedAmong(context: IExecuteFunctions, identities: string[]): Promise<Set<string>> {
		if (identities.length === 0 || context.getMode() === 'manual') return new Set();
		return this.check(context, [...new Set(identities)]);
	}

	private async check(context: IExecuteFunctions, identities: string[]): Promise<Set<string>> {
		const run = this.tail.then(
			() => this.checkWithRetry(context, identities),
			() => this.checkWithRetry(context, identities),
		);
		this.tail = run.catch(() => undefined);
		return run;
	}

	private async checkWithRetry(context: IExecuteFunctions, identities: string[]): Promise<Set<string>> {
		let lastError: unknown;
		// A second try covers another process inserting the row at the same moment (a unique-key conflict).
		for (let attempt = 0; attempt < 2; attempt++) {
			try {
				const outcome = await context.helpers.checkProcessedAndRecord(identities, 'node', OPTIONS);
				return new Set(outcome.processed.map(String));
			} catch (error) {
				lastError = error;
			}
		}
		throw new NodeOperationError(context.getNode(), "Could not check in n8n's database which call events already ran", {
			description: `${(lastError as Error).message}. Nothing was emitted, so that no call event runs twice; check n8n's database connection, then retry this execution.`,
		});
	}
}
