import { createHash } from 'node:crypto';
import { DataDeduplicationService } from 'n8n-core';
import type {
	DeduplicationItemTypes,
	DeduplicationScope,
	ICheckProcessedContextData,
	ICheckProcessedOptions,
	IDataDeduplicator,
	IDeduplicationOutput,
} from 'n8n-workflow';

/**
 * n8n's database-backed deduplication (n8n 2.41.1 `packages/cli/src/deduplication/deduplication-helper.ts`,
 * mode "entries") with a Map for its processed_data table: one row per workflow and node holding the
 * md5/base64 hashes of what was recorded, read, changed and written back with a database round trip on each
 * side and no lock, a unique-key error when two callers insert the first row at once, and the oldest hashes
 * cut beyond maxEntries. The harness installs it as n8n-core's DataDeduplicationService, as n8n's own start
 * does with the real one; the real one runs in the end-to-end suite.
 */
export class ProcessedDataStore implements IDataDeduplicator {
	readonly rows = new Map<string, string[]>();
	/** Calls made, for tests that count database round trips. */
	calls = 0;
	/** When set, every call fails as a database that cannot be reached does. */
	unavailable = false;

	private static hash(value: DeduplicationItemTypes): string {
		return createHash('md5').update(value.toString()).digest('base64');
	}

	private static rowKey(scope: DeduplicationScope, contextData: ICheckProcessedContextData): string {
		return `${contextData.workflow.id}|${scope === 'node' ? `n:${contextData.node?.id}` : ''}`;
	}

	private async roundTrip(): Promise<void> {
		await new Promise<void>((resolve) => setImmediate(resolve));
		if (this.unavailable) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
	}

	async checkProcessedAndRecord(
		items: DeduplicationItemTypes[],
		scope: DeduplicationScope,
		contextData: ICheckProcessedContextData,
		options: ICheckProcessedOptions,
	): Promise<IDeduplicationOutput> {
		this.calls++;
		const key = ProcessedDataStore.rowKey(scope, contextData);
		await this.roundTrip();
		const found = this.rows.get(key);
		const stored = found ? [...found] : undefined;
		const hashes = items.map((item) => ProcessedDataStore.hash(item));
		if (!stored) {
			await this.roundTrip();
			if (this.rows.has(key)) throw new Error('duplicate key value violates unique constraint "PK_processed_data"');
			this.rows.set(key, options.maxEntries ? hashes.slice(-options.maxEntries) : hashes);
			return { new: items, processed: [] };
		}
		const known = new Set(stored);
		const output: IDeduplicationOutput = { new: [], processed: [] };
		hashes.forEach((hash, index) => {
			if (known.has(hash)) output.processed.push(items[index]!);
			else {
				output.new.push(items[index]!);
				stored.push(hash);
			}
		});
		if (options.maxEntries) stored.splice(0, stored.length - options.maxEntries);
		await this.roundTrip();
		this.rows.set(key, stored);
		return output;
	}

	async removeProcessed(items: DeduplicationItemTypes[], scope: DeduplicationScope, contextData: ICheckProcessedContextData): Promise<void> {
		this.calls++;
		const key = ProcessedDataStore.rowKey(scope, contextData);
		await this.roundTrip();
		const stored = this.rows.get(key);
		if (!stored) return;
		const remove = new Set(items.map((item) => ProcessedDataStore.hash(item)));
		this.rows.set(key, stored.filter((hash) => !remove.has(hash)));
	}

	async clearAllProcessedItems(scope: DeduplicationScope, contextData: ICheckProcessedContextData): Promise<void> {
		this.rows.delete(ProcessedDataStore.rowKey(scope, contextData));
	}

	async getProcessedDataCount(scope: DeduplicationScope, contextData: ICheckProcessedContextData): Promise<number> {
		return this.rows.get(ProcessedDataStore.rowKey(scope, contextData))?.length ?? 0;
	}

	/** Entries recorded for every node, for assertions. */
	get size(): number {
		return [...this.rows.values()].reduce((sum, row) => sum + row.length, 0);
	}
}

/** Makes `store` the deduplication every n8n-core context of this test file uses, as n8n's start-up does. */
export function installProcessedDataStore(store: ProcessedDataStore): void {
	// The service allows one init per process; a later harness swaps the store of the one instance.
	const service = DataDeduplicationService as unknown as { instance?: { deduplicator: IDataDeduplicator } };
	if (service.instance) service.instance.deduplicator = store;
	else void DataDeduplicationService.init(store);
}
