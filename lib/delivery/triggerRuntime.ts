import type { IDataObject, IExecuteFunctions, ITriggerFunctions } from 'n8n-workflow';

import { BoundedCache } from '../boundedCache';
import { FilterCanary } from '../callRecords/filterCanary';
import { RECORD_READS_PER_TRIGGER } from '../callRecords/readCallRecord';
import { Limiter } from '../concurrency/limiter';
import { FailedExecutions } from './failedExecutions';
import { ProcessedDeliveries } from './processedDeliveries';

export type RecordReadOutcome = { record: IDataObject } | { notFound: true } | { error: Error };

/** How many call-record IDs a trigger remembers as run in this process (a cheap filter before n8n's store). */
const KNOWN_RECORDS_CAPACITY = 20_000;
/** A record a sweep handed on but that did not run (Graph would not return it) is handed on again after this. */
const SWEEP_RETRY_MS = 60 * 60_000;

/**
 * Everything one trigger (workflow and node) keeps in this process for the work its executions do: the
 * order of its calls to n8n's store, its share of Graph reads, the reads in progress, and the call records
 * it knows already ran here. Nothing in it decides on its own what runs: n8n's store does.
 */
export class TriggerRuntime {
	readonly processed = new ProcessedDeliveries();
	/** The active trigger's saveFailedExecution, for records an execution could not read. */
	readonly failedExecutions = new FailedExecutions();
	/** Graph reads of call records at once, notifications and sweeps together (per process). */
	readonly recordReads = new Limiter(RECORD_READS_PER_TRIGGER);
	/** Reads in progress by record ID: a second delivery of the record waits for the same read. */
	readonly readsInFlight = new Map<string, Promise<RecordReadOutcome>>();
	/** Record IDs that ran in this process: a sweep does not hand them on again. */
	readonly knownRecords = new BoundedCache<string, true>(KNOWN_RECORDS_CAPACITY);
	/** Whether Graph still notifies what its participants filter should match (filter "In Graph"). */
	readonly filterCanary = new FilterCanary();
	/** When the sweep last handed each record on; after SWEEP_RETRY_MS it may again (its read may have failed elsewhere). */
	private readonly handedOn = new BoundedCache<string, number>(KNOWN_RECORDS_CAPACITY);

	recordHandedOn(id: string, now = Date.now()): void {
		this.handedOn.set(id, now);
	}

	/** Whether a sweep should leave the record alone: it ran here, or was handed on within the last SWEEP_RETRY_MS. */
	recordIsKnown(id: string, now = Date.now()): boolean {
		return this.knownRecords.get(id) === true || now - (this.handedOn.get(id) ?? -Infinity) < SWEEP_RETRY_MS;
	}
}

/** The one process-wide registry: a runtime per trigger, made on first use. */
const runtimes = new BoundedCache<string, TriggerRuntime>(256);

export function triggerRuntimeFor(context: IExecuteFunctions | ITriggerFunctions): TriggerRuntime {
	const key = JSON.stringify([context.getWorkflow().id ?? '', context.getNode().name]);
	return runtimes.getOrCreate(key, () => new TriggerRuntime());
}

/** What a process restart does to the runtimes; for tests. */
export function forgetTriggerRuntimes(): void {
	runtimes.clear();
}
