import { constants, publicEncrypt } from 'node:crypto';

import { DecryptionKeyRing } from '../../../lib/crypto/decryptionKeyRing';
import { decryptEncryptedContent } from '../../../lib/crypto/decryptEncryptedContent';
import { decryptEncryptedContents, type DecryptOutcome } from '../../../lib/crypto/decryptEncryptedContents';
import {
	BadPaddingError,
	MalformedEncryptedContentError,
	NotJsonError,
	SignatureMismatchError,
	UnknownCertificateIdError,
	WrongKeyError,
} from '../../../lib/crypto/errors';
import { KeyUnwrapPool, KeyUnwrapPoolUnavailableError } from '../../../lib/crypto/keyUnwrapPool';
import { decryptThreadCount } from '../../../lib/crypto/sharedKeyUnwrapPool';
import { encryptLikeGraph } from '../../support/graphEncryption';
import { makeTestCertificate, type TestCertificate } from '../../support/testCertificates';

let current: TestCertificate;
let previous: TestCertificate;
let big: TestCertificate;
let stranger: TestCertificate;
const pools: KeyUnwrapPool[] = [];

beforeAll(() => {
	current = makeTestCertificate({ bits: 2048 });
	previous = makeTestCertificate({ bits: 2048 });
	big = makeTestCertificate({ bits: 4096 });
	stranger = makeTestCertificate({ bits: 2048 });
});

afterEach(async () => {
	await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function newPool(options: ConstructorParameters<typeof KeyUnwrapPool>[0]): KeyUnwrapPool {
	const pool = new KeyUnwrapPool(options);
	pools.push(pool);
	return pool;
}

const ring = () =>
	new DecryptionKeyRing([
		{ certificateId: 'current', privateKey: current.privateKey },
		{ certificateId: 'previous', privateKey: previous.privateKey },
		{ certificateId: 'big', privateKey: big.privateKey },
	]);

const event = (n: number) => ({ id: `call-${n}`, callEventType: n % 2 ? 'callEnded' : 'callStarted', note: 'ünïcødé ☎', n });

/** What Graph sends: the sealed content without the test helper's copy of the symmetric key. */
function sealed(resource: unknown, certificate: TestCertificate, id: string, plaintext?: Buffer) {
	const content: Partial<ReturnType<typeof encryptLikeGraph>> = encryptLikeGraph(resource, certificate.certificatePem, id, plaintext);
	delete content.symmetricKey;
	return content as Omit<ReturnType<typeof encryptLikeGraph>, 'symmetricKey'>;
}

function sealedBatch(count: number, certificate = current, id = 'current') {
	return Array.from({ length: count }, (_, n) => sealed(event(n), certificate, id));
}

/** Every failure the single-item decryptor knows, plus good items for both keys of a rotation. */
function mixedBatch(): unknown[] {
	const good = sealedBatch(1)[0];
	const fromPrevious = sealedBatch(1, previous, 'previous')[0];
	const tampered = sealedBatch(1)[0];
	const bytes = Buffer.from(tampered.data, 'base64');
	bytes[3] ^= 0x01;
	const notJson = sealed(null, current, 'current', Buffer.from('{not json'));
	// A data key wrapped with PKCS#1 v1.5 instead of OAEP-SHA1: the worker must refuse it as the inline path does.
	const { symmetricKey: pkcs1Key, ...pkcs1 } = encryptLikeGraph(event(7), current.certificatePem, 'current');
	pkcs1.dataKey = publicEncrypt({ key: current.certificatePem, padding: constants.RSA_PKCS1_PADDING }, pkcs1Key).toString('base64');
	const forStranger = sealed(event(9), stranger, 'current');
	return [
		good,
		{ ...tampered, data: bytes.toString('base64') },
		fromPrevious,
		forStranger,
		{ ...good, encryptionCertificateId: 'who-knows' },
		{ ...good, dataKey: 'not base64 !!' },
		null,
		notJson,
		pkcs1,
		...sealedBatch(30),
	];
}

function describeOutcome(outcome: DecryptOutcome): unknown {
	return 'error' in outcome ? { error: outcome.error.constructor.name, message: outcome.error.message } : outcome;
}

function describeInline(content: unknown): unknown {
	try {
		return { resource: decryptEncryptedContent(content, ring()) };
	} catch (error) {
		return { error: (error as Error).constructor.name, message: (error as Error).message };
	}
}

describe('decryptEncryptedContents', () => {
	it('opens a batch on worker threads to exactly what the one-at-a-time decryptor gives, in order', async () => {
		const pool = newPool({ size: 2 });
		const batch = mixedBatch();
		const report = { onWorkerThreads: 0, onCallingThread: 0 };
		const outcomes = await decryptEncryptedContents(batch, ring(), { pool, report });
		expect(pool.runningWorkers).toBeGreaterThan(0);
		// Every item that got past the shape checks (6 of the first 9, and the 30 good ones) went to a thread.
		expect(report).toEqual({ onWorkerThreads: 36, onCallingThread: 0 });
		expect(outcomes.map(describeOutcome)).toEqual(batch.map(describeInline));
		expect(outcomes.slice(0, 9).map((o) => ('error' in o ? o.error.constructor : 'ok'))).toEqual([
			'ok',
			SignatureMismatchError,
			'ok',
			WrongKeyError,
			UnknownCertificateIdError,
			MalformedEncryptedContentError,
			MalformedEncryptedContentError,
			NotJsonError,
			WrongKeyError,
		]);
		expect(outcomes.slice(9).map((o) => ('resource' in o ? (o.resource as { n: number }).n : -1))).toEqual(
			Array.from({ length: 30 }, (_, n) => n),
		);
	});

	it('gives the same outcomes with no pool, on the calling thread', async () => {
		const batch = mixedBatch();
		const outcomes = await decryptEncryptedContents(batch, ring(), { pool: null });
		expect(outcomes.map(describeOutcome)).toEqual(batch.map(describeInline));
	});

	it('keeps a small RSA-2048 batch on the calling thread: no worker starts for it', async () => {
		const pool = newPool({ size: 2 });
		const outcomes = await decryptEncryptedContents(sealedBatch(3), ring(), { pool });
		expect(outcomes.every((o) => 'resource' in o)).toBe(true);
		expect(pool.runningWorkers).toBe(0);
	});

	it('sends even a single RSA-4096 item to a worker, as it would block the event loop for milliseconds', async () => {
		const pool = newPool({ size: 2 });
		const outcomes = await decryptEncryptedContents(sealedBatch(1, big, 'big'), ring(), { pool });
		expect(outcomes.map(describeOutcome)).toEqual([{ resource: event(0) }]);
		expect(pool.runningWorkers).toBe(1);
	});

	it('loses nothing when a worker dies mid-batch: its chunks are decrypted on the calling thread', async () => {
		const pool = newPool({ size: 2, workerSource: "require('node:worker_threads').parentPort.on('message', () => process.exit(7));" });
		const batch = sealedBatch(100);
		const report = { onWorkerThreads: 0, onCallingThread: 0, poolFailure: undefined as string | undefined };
		const outcomes = await decryptEncryptedContents(batch, ring(), { pool, report });
		expect(outcomes.map(describeOutcome)).toEqual(batch.map((_, n) => ({ resource: event(n) })));
		expect(report.onCallingThread).toBe(100);
		expect(report.poolFailure).toMatch(/worker stopped: exit code 7/);
	});

	it('loses nothing when no worker can start, and stops trying for a while after three failed starts', async () => {
		const pool = newPool({ size: 2, workerSource: 'this is not JavaScript (' });
		const batch = sealedBatch(40);
		const outcomes = await decryptEncryptedContents(batch, ring(), { pool });
		expect(outcomes.map(describeOutcome)).toEqual(batch.map((_, n) => ({ resource: event(n) })));
		const job = { privateKey: current.privateKey, wrappedKey: Buffer.alloc(256) };
		// The third failed start pauses the pool: from then on it refuses at once, starting no thread.
		await expect(pool.unwrap([job])).rejects.toBeInstanceOf(KeyUnwrapPoolUnavailableError);
		const refused = pool.unwrap([job]);
		expect(pool.runningWorkers).toBe(0);
		await expect(refused).rejects.toThrow('failed to start');
	});

	it('loses nothing when a worker never answers: it is stopped after the chunk timeout and its chunks decrypted here', async () => {
		const pool = newPool({ size: 2, chunkTimeoutMs: 300, workerSource: "require('node:worker_threads').parentPort.on('message', () => undefined);" });
		const batch = sealedBatch(40);
		const report = { onWorkerThreads: 0, onCallingThread: 0, poolFailure: undefined as string | undefined };
		const outcomes = await decryptEncryptedContents(batch, ring(), { pool, report });
		expect(outcomes.map(describeOutcome)).toEqual(batch.map((_, n) => ({ resource: event(n) })));
		expect(report.poolFailure).toMatch(/no answer within 300 ms/);
		expect(pool.runningWorkers).toBe(0);
	});

	it('refuses every item when a worker answers with keys that are not the real ones', async () => {
		const pool = newPool({
			size: 1,
			workerSource:
				"const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => { const n = m.keyIndexes.length; parentPort.postMessage({ id: m.id, keys: new Uint8Array(n * 32), ok: new Uint8Array(n).fill(1) }); });",
		});
		const outcomes = await decryptEncryptedContents(sealedBatch(20), ring(), { pool });
		expect(outcomes.every((o) => 'error' in o && o.error instanceof SignatureMismatchError)).toBe(true);
	});

	it('still reports bad padding from the AES step after a pool unwrap', async () => {
		const pool = newPool({ size: 2 });
		const { symmetricKey, ...content } = encryptLikeGraph(event(1), current.certificatePem, 'current');
		// Re-sign a ciphertext whose last block decrypts to invalid padding, so only the AES step can refuse it.
		const { createDecipheriv, createHmac, randomBytes } = await import('node:crypto');
		// A last plaintext byte of 0 is never valid PKCS#7 padding; random bytes alone are valid 1 time in ~256.
		const lastPlainByte = (data: Buffer) => {
			const decipher = createDecipheriv('aes-256-cbc', symmetricKey, symmetricKey.subarray(0, 16)).setAutoPadding(false);
			return Buffer.concat([decipher.update(data), decipher.final()]).at(-1);
		};
		let garbage = randomBytes(64);
		while (lastPlainByte(garbage) !== 0) garbage = randomBytes(64);
		const forged = { ...content, data: garbage.toString('base64'), dataSignature: createHmac('sha256', symmetricKey).update(garbage).digest('base64') };
		const outcomes = await decryptEncryptedContents([forged, ...sealedBatch(20)], ring(), { pool });
		const first = outcomes[0];
		expect('error' in first && first.error).toBeInstanceOf(BadPaddingError);
	});
});

describe('KeyUnwrapPool', () => {
	it('stops its threads after the idle time, and starts them again on demand', async () => {
		const pool = newPool({ size: 2, idleMs: 50 });
		const job = { privateKey: current.privateKey, wrappedKey: Buffer.from(sealedBatch(1)[0].dataKey, 'base64') };
		const [key] = await pool.unwrap([job]);
		expect(key).toHaveLength(32);
		expect(pool.runningWorkers).toBe(1);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(pool.runningWorkers).toBe(0);
		const [again] = await pool.unwrap([job]);
		expect(again).toEqual(key);
	});

	it('answers undefined, not an error text, for a key it cannot unwrap', async () => {
		const pool = newPool({ size: 1 });
		const results = await pool.unwrap([
			{ privateKey: current.privateKey, wrappedKey: Buffer.alloc(256, 1) },
			{ privateKey: current.privateKey, wrappedKey: Buffer.from(sealedBatch(1)[0].dataKey, 'base64') },
		]);
		expect(results[0]).toBeUndefined();
		expect(results[1]).toHaveLength(32);
	});

	it('rejects work still queued when it is closed', async () => {
		const pool = new KeyUnwrapPool({ size: 1 });
		const job = { privateKey: big.privateKey, wrappedKey: Buffer.from(sealedBatch(1, big, 'big')[0].dataKey, 'base64') };
		const pending = Promise.allSettled(Array.from({ length: 4 }, () => pool.unwrap([job, job])));
		await pool.close();
		const settled = await pending;
		expect(settled.every((s) => s.status === 'rejected' && s.reason instanceof KeyUnwrapPoolUnavailableError)).toBe(true);
	});
});

describe('decryptThreadCount', () => {
	it('defaults to one thread per CPU, at most 4, and honours N8N_TEAMS_CALLS_DECRYPT_THREADS', () => {
		const byDefault = decryptThreadCount({});
		expect(byDefault).toBeGreaterThanOrEqual(1);
		expect(byDefault).toBeLessThanOrEqual(4);
		expect(decryptThreadCount({ N8N_TEAMS_CALLS_DECRYPT_THREADS: '0' })).toBe(0);
		expect(decryptThreadCount({ N8N_TEAMS_CALLS_DECRYPT_THREADS: '6' })).toBe(6);
		expect(decryptThreadCount({ N8N_TEAMS_CALLS_DECRYPT_THREADS: 'lots' })).toBe(byDefault);
		expect(decryptThreadCount({ N8N_TEAMS_CALLS_DECRYPT_THREADS: '-1' })).toBe(byDefault);
	});
});
