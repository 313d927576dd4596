import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

import { KEY_UNWRAP_WORKER_SOURCE } from './keyUnwrapWorkerSource';
import { SYMMETRIC_KEY_BYTES } from './unwrapSymmetricKey';

export interface KeyUnwrapJob {
	privateKey: KeyObject;
	wrappedKey: Buffer;
}

/** The pool could not run a chunk (a worker failed to start or died); the caller decrypts it itself. */
export class KeyUnwrapPoolUnavailableError extends Error {
	override name = 'KeyUnwrapPoolUnavailableError';
}

export interface KeyUnwrapPoolOptions {
	/** Worker threads at most; they start on first use. */
	size: number;
	/** Workers are stopped after this long without work, so an idle trigger holds no threads. */
	idleMs?: number;
	/** A worker that has not answered a chunk by then is stopped, and its chunks are decrypted by the caller. */
	chunkTimeoutMs?: number;
	/** Only for fault-injection tests: the code the workers run. */
	workerSource?: string;
}

interface ChunkMessage {
	keys: KeyObject[];
	keyIndexes: Uint8Array;
	offsets: Uint32Array;
	wrapped: Uint8Array;
}

interface PendingChunk {
	id: number;
	message: ChunkMessage;
	count: number;
	resolve: (results: Array<Buffer | undefined>) => void;
	reject: (error: Error) => void;
	watchdog?: NodeJS.Timeout;
}

interface PoolWorker {
	worker: Worker;
	inFlight: Map<number, PendingChunk>;
	answered: boolean;
	retire: (reason: string) => void;
}

/** Two chunks per worker: one running, one waiting in its port, so a worker never idles between messages. */
const CHUNKS_IN_FLIGHT_PER_WORKER = 2;
const DEFAULT_IDLE_MS = 60_000;
// A chunk is about 8 ms of RSA work; a thread silent for this long is stuck, and a batch must not wait on it.
const DEFAULT_CHUNK_TIMEOUT_MS = 10_000;
/** Threads that die before answering this many times in a row mean the host does not let them run. */
const FAILED_STARTS_BEFORE_PAUSE = 3;
const PAUSE_AFTER_FAILED_STARTS_MS = 5 * 60_000;
// A worker needs a few MiB: the wrapped keys and results of two chunks.
const WORKER_HEAP_LIMIT_MB = 32;

/**
 * RSA private-key operations on worker threads, so a large batch uses every core and the event loop
 * stays free for Graph's next delivery, whose 3 s clock is running. Only the RSA step moves: the HMAC
 * check, AES and JSON stay in the caller, in one implementation.
 */
export class KeyUnwrapPool {
	private readonly workers: PoolWorker[] = [];
	private readonly queue: PendingChunk[] = [];
	private nextId = 1;
	private idleTimer: NodeJS.Timeout | undefined;
	private failedStarts = 0;
	private pausedUntil = 0;
	private readonly size: number;
	private readonly idleMs: number;
	private readonly chunkTimeoutMs: number;
	private readonly workerSource: string;

	constructor(options: KeyUnwrapPoolOptions) {
		this.size = Math.max(1, Math.floor(options.size));
		this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
		this.chunkTimeoutMs = options.chunkTimeoutMs ?? DEFAULT_CHUNK_TIMEOUT_MS;
		this.workerSource = options.workerSource ?? KEY_UNWRAP_WORKER_SOURCE;
	}

	get runningWorkers(): number {
		return this.workers.length;
	}

	/**
	 * Unwraps one chunk; each result is the 32-byte key, or undefined where the RSA step failed (or gave
	 * a key of another length).
	 */
	unwrap(jobs: readonly KeyUnwrapJob[]): Promise<Array<Buffer | undefined>> {
		if (Date.now() < this.pausedUntil) {
			return Promise.reject(new KeyUnwrapPoolUnavailableError('Key-unwrap workers failed to start; decrypting on the main thread for now'));
		}
		const keys: KeyObject[] = [];
		const keyIndex = new Map<KeyObject, number>();
		const keyIndexes = new Uint8Array(jobs.length);
		const offsets = new Uint32Array(jobs.length + 1);
		jobs.forEach((job, position) => {
			let index = keyIndex.get(job.privateKey);
			if (index === undefined) {
				index = keys.push(job.privateKey) - 1;
				keyIndex.set(job.privateKey, index);
			}
			keyIndexes[position] = index;
			offsets[position + 1] = offsets[position] + job.wrappedKey.length;
		});
		// One buffer of its own for the chunk, transferred to the worker: cloning views of Node's shared
		// 8 KiB buffer pool would also send the rest of the pool (other requests' bytes).
		const wrapped = new Uint8Array(offsets[jobs.length]);
		jobs.forEach((job, position) => wrapped.set(job.wrappedKey, offsets[position]));
		return new Promise((resolve, reject) => {
			this.queue.push({ id: this.nextId++, message: { keys, keyIndexes, offsets, wrapped }, count: jobs.length, resolve, reject });
			this.dispatch();
		});
	}

	/** Stops every worker; chunks still queued or running are rejected (their callers fall back). */
	async close(): Promise<void> {
		this.clearIdleTimer();
		const failure = new KeyUnwrapPoolUnavailableError('The key-unwrap pool was closed');
		for (const chunk of this.queue.splice(0)) chunk.reject(failure);
		const workers = this.workers.splice(0);
		for (const entry of workers) this.failInFlight(entry, failure);
		await Promise.all(workers.map((entry) => entry.worker.terminate()));
	}

	private dispatch(): void {
		this.clearIdleTimer();
		while (this.queue.length > 0) {
			const target = this.workerWithRoom();
			if (!target) {
				// Nothing running and no thread could start: fail now rather than leave callers waiting.
				if (this.workers.length === 0) {
					const failure = new KeyUnwrapPoolUnavailableError('No key-unwrap worker could be started');
					for (const chunk of this.queue.splice(0)) chunk.reject(failure);
				}
				break;
			}
			const chunk = this.queue.shift()!;
			target.inFlight.set(chunk.id, chunk);
			try {
				const { message } = chunk;
				target.worker.postMessage({ id: chunk.id, ...message }, [message.keyIndexes.buffer as ArrayBuffer, message.offsets.buffer as ArrayBuffer, message.wrapped.buffer as ArrayBuffer]);
				chunk.watchdog = setTimeout(() => target.retire(`no answer within ${this.chunkTimeoutMs} ms`), this.chunkTimeoutMs);
				chunk.watchdog.unref();
			} catch (error) {
				target.inFlight.delete(chunk.id);
				chunk.reject(new KeyUnwrapPoolUnavailableError(`A key-unwrap worker could not take work: ${(error as Error).message}`));
			}
		}
		this.armIdleTimerIfIdle();
	}

	private workerWithRoom(): PoolWorker | undefined {
		let best: PoolWorker | undefined;
		for (const entry of this.workers) {
			if (entry.inFlight.size < CHUNKS_IN_FLIGHT_PER_WORKER && (!best || entry.inFlight.size < best.inFlight.size)) {
				best = entry;
			}
		}
		// Prefer an idle new thread to a second chunk on a busy one while the pool may still grow.
		if ((!best || best.inFlight.size > 0) && this.workers.length < this.size) return this.startWorker();
		return best;
	}

	private startWorker(): PoolWorker | undefined {
		let worker: Worker;
		try {
			worker = new Worker(this.workerSource, {
				eval: true,
				resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_LIMIT_MB },
				// The workers must never keep n8n (or a test run) from exiting.
				stdout: false,
				stderr: false,
			});
		} catch {
			return undefined;
		}
		worker.unref();
		const entry: PoolWorker = { worker, inFlight: new Map(), answered: false, retire: () => undefined };
		worker.on('message', (message: { id: number; keys: Uint8Array; ok: Uint8Array }) => {
			entry.answered = true;
			this.failedStarts = 0;
			const chunk = entry.inFlight.get(message.id);
			if (!chunk) return;
			clearTimeout(chunk.watchdog);
			entry.inFlight.delete(message.id);
			const keys = Buffer.from(message.keys.buffer, message.keys.byteOffset, message.keys.byteLength);
			chunk.resolve(
				Array.from({ length: chunk.count }, (_, job) =>
					message.ok[job] === 1 ? keys.subarray(job * SYMMETRIC_KEY_BYTES, (job + 1) * SYMMETRIC_KEY_BYTES) : undefined,
				),
			);
			this.dispatch();
		});
		const retire = (reason: string) => {
			const index = this.workers.indexOf(entry);
			if (index === -1) return;
			this.workers.splice(index, 1);
			if (!entry.answered && ++this.failedStarts >= FAILED_STARTS_BEFORE_PAUSE) {
				this.pausedUntil = Date.now() + PAUSE_AFTER_FAILED_STARTS_MS;
				this.failedStarts = 0;
				const failure = new KeyUnwrapPoolUnavailableError('Key-unwrap workers failed to start');
				for (const chunk of this.queue.splice(0)) chunk.reject(failure);
			}
			this.failInFlight(entry, new KeyUnwrapPoolUnavailableError(`A key-unwrap worker stopped: ${reason}`));
			void entry.worker.terminate();
			this.dispatch();
		};
		entry.retire = retire;
		worker.on('error', (error) => retire(error.message));
		worker.on('exit', (code) => retire(`exit code ${code}`));
		this.workers.push(entry);
		return entry;
	}

	private failInFlight(entry: PoolWorker, error: Error): void {
		for (const chunk of entry.inFlight.values()) {
			clearTimeout(chunk.watchdog);
			chunk.reject(error);
		}
		entry.inFlight.clear();
	}

	private armIdleTimerIfIdle(): void {
		if (this.workers.length === 0 || this.queue.length > 0) return;
		if (this.workers.some((entry) => entry.inFlight.size > 0)) return;
		this.idleTimer = setTimeout(() => {
			this.idleTimer = undefined;
			const workers = this.workers.splice(0);
			void Promise.all(workers.map((entry) => entry.worker.terminate()));
		}, this.idleMs);
		this.idleTimer.unref();
	}

	private clearIdleTimer(): void {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = undefined;
	}
}
