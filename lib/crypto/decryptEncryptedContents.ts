import { TimeSlicer } from '../eventLoop/timeSlicer';
import type { DecryptionKeyRing } from './decryptionKeyRing';
import { NotificationDecryptionError, WrongKeyError } from './errors';
import type { KeyUnwrapPool } from './keyUnwrapPool';
import { openSealedContent } from './openSealedContent';
import { readSealedContent, type SealedContent } from './readSealedContent';
import { unwrapSymmetricKey, WRONG_KEY_MESSAGE } from './unwrapSymmetricKey';

export type DecryptOutcome = { resource: unknown } | { error: NotificationDecryptionError };

export interface DecryptBatchOptions {
	/** Worker threads for the RSA step; null keeps everything on the calling thread. */
	pool: KeyUnwrapPool | null;
	/** Filled in for the caller's log: where the RSA steps ran, and why the pool was not used if it failed. */
	report?: DecryptBatchReport;
}

export interface DecryptBatchReport {
	onWorkerThreads: number;
	onCallingThread: number;
	poolFailure?: string;
}

/** Below this much estimated RSA work, handing the batch to threads costs more than it saves. */
const POOL_THRESHOLD_MS = 2;
/** Each message to a worker carries about this much RSA work: enough to hide the messaging cost. */
const CHUNK_TARGET_MS = 8;
const MAX_CHUNK_ITEMS = 32;

/** A rough cost of one RSA private-key operation: ~0.25 ms at 2048 bits, growing with the cube of the size. */
function estimatedRsaMs(sealed: SealedContent): number {
	const bits = sealed.privateKey.asymmetricKeyDetails?.modulusLength ?? 2048;
	return 0.25 * (bits / 2048) ** 3;
}

function failure(error: unknown): { error: NotificationDecryptionError } {
	if (error instanceof NotificationDecryptionError) return { error };
	throw error;
}

/** `key` is the pool's answer: a 32-byte key, or undefined where the RSA step failed. */
function openWith(sealed: SealedContent, key: Buffer | undefined): DecryptOutcome {
	if (!key) return { error: new WrongKeyError(WRONG_KEY_MESSAGE) };
	try {
		return { resource: openSealedContent(sealed, key) };
	} catch (error) {
		return failure(error);
	}
}

async function decryptOnThisThread(
	indexes: readonly number[],
	sealed: ReadonlyArray<SealedContent | undefined>,
	outcomes: DecryptOutcome[],
): Promise<void> {
	const slicer = new TimeSlicer();
	for (const index of indexes) {
		if (slicer.due) await slicer.yield();
		const content = sealed[index]!;
		try {
			outcomes[index] = { resource: openSealedContent(content, unwrapSymmetricKey(content.privateKey, content.wrappedKey)) };
		} catch (error) {
			outcomes[index] = failure(error);
		}
	}
}

/**
 * Opens a batch of Graph rich notifications; one outcome per input, in input order. Once a batch holds
 * enough RSA work, its RSA steps go to worker threads in chunks, each sent as soon as it is read, so the
 * threads start while the rest of the batch is still being checked. Should the pool fail, that chunk
 * is decrypted here instead, so nothing is lost.
 */
export async function decryptEncryptedContents(
	contents: readonly unknown[],
	keyRing: DecryptionKeyRing,
	options: DecryptBatchOptions,
): Promise<DecryptOutcome[]> {
	const outcomes: DecryptOutcome[] = new Array(contents.length);
	const sealed: Array<SealedContent | undefined> = new Array(contents.length);
	const { pool } = options;
	const report = options.report ?? { onWorkerThreads: 0, onCallingThread: 0 };
	const chunksSent: Array<Promise<void>> = [];
	const unwrapChunk = async (chunk: number[]) => {
		let keys: Array<Buffer | undefined>;
		try {
			keys = await pool!.unwrap(chunk.map((index) => sealed[index]!));
		} catch (error) {
			report.poolFailure ??= (error as Error).message;
			report.onCallingThread += chunk.length;
			await decryptOnThisThread(chunk, sealed, outcomes);
			return;
		}
		report.onWorkerThreads += chunk.length;
		chunk.forEach((index, position) => {
			outcomes[index] = openWith(sealed[index]!, keys[position]);
		});
	};
	const sendChunk = (chunk: number[]) => {
		const sent = unwrapChunk(chunk);
		// Observed at once, so a failure is never an unhandled rejection while the loop below still runs;
		// it is still rethrown by the Promise.all at the end.
		sent.catch(() => undefined);
		chunksSent.push(sent);
	};

	let waiting: number[] = [];
	let waitingMs = 0;
	let totalMs = 0;
	const poolWorthIt = () => pool !== null && totalMs >= POOL_THRESHOLD_MS;
	const slicer = new TimeSlicer();
	for (const [index, content] of contents.entries()) {
		if (slicer.due) await slicer.yield();
		try {
			sealed[index] = readSealedContent(content, keyRing);
		} catch (error) {
			outcomes[index] = failure(error);
			continue;
		}
		const cost = estimatedRsaMs(sealed[index]!);
		waiting.push(index);
		waitingMs += cost;
		totalMs += cost;
		if (poolWorthIt() && (waitingMs >= CHUNK_TARGET_MS || waiting.length >= MAX_CHUNK_ITEMS)) {
			sendChunk(waiting);
			waiting = [];
			waitingMs = 0;
		}
	}
	if (waiting.length > 0) {
		if (poolWorthIt()) sendChunk(waiting);
		else {
			report.onCallingThread += waiting.length;
			await decryptOnThisThread(waiting, sealed, outcomes);
		}
	}
	await Promise.all(chunksSent);
	return outcomes;
}
