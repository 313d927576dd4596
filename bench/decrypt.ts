/* eslint-disable @n8n/community-nodes/no-dangerous-functions -- benchmark code, not node code: it runs `openssl speed` for the ceiling (fixed arguments). */
import { spawnSync } from 'node:child_process';
import { constants, createDecipheriv, createHmac, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import forge from 'node-forge';

import { generateSelfSignedCertificate, type RsaKeySize } from '../lib/certificates/generateSelfSignedCertificate';
import { readNotificationCertificate } from '../lib/credentials/notificationCertificate';
import type { DecryptionKeyRing } from '../lib/crypto/decryptionKeyRing';
import { decryptEncryptedContent, type EncryptedContent } from '../lib/crypto/decryptEncryptedContent';
import { decryptEncryptedContents } from '../lib/crypto/decryptEncryptedContents';
import { KeyUnwrapPool } from '../lib/crypto/keyUnwrapPool';
import { decryptThreadCount } from '../lib/crypto/sharedKeyUnwrapPool';
import { encryptForSubscription } from '../test/simulator/encryption';
import { CALL_RESOURCE, callEventOfAbout1Kb } from './payloads';
import { collectGarbage, log, median, now } from './stats';

export const OPENSSL = '/usr/bin/openssl';

/** The same algorithm with node-forge (shared/reference/msal-forge-crypto.md §3), key parsed once. */
function decryptWithForge(ec: EncryptedContent, forgeKey: forge.pki.rsa.PrivateKey): unknown {
	const key = forgeKey.decrypt(forge.util.decode64(ec.dataKey), 'RSA-OAEP');
	if (key.length !== 32) throw new Error('unexpected symmetric key length');
	const data = forge.util.decode64(ec.data);
	const hmac = forge.hmac.create();
	hmac.start('sha256', key);
	hmac.update(data);
	const actual = Buffer.from(hmac.digest().getBytes(), 'binary');
	const expected = Buffer.from(ec.dataSignature, 'base64');
	if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new Error('dataSignature mismatch');
	const decipher = forge.cipher.createDecipher('AES-CBC', key);
	decipher.start({ iv: key.substring(0, 16) });
	decipher.update(forge.util.createBuffer(data));
	if (!decipher.finish()) throw new Error('bad PKCS7 padding');
	return JSON.parse(forge.util.decodeUtf8(decipher.output.getBytes()));
}

/**
 * The approach of Microsoft's Node.js change-notification samples (helpers/certificate-helper.js,
 * decryptSymmetricKey / verifySignature / decryptPayload): the private key PEM goes to privateDecrypt on
 * every notification (OAEP-SHA1 is privateDecrypt's default), then HMAC compared as base64 strings and
 * AES-256-CBC with IV = key[0..16). (The sample also reads the PEM file from disk each time; here the
 * string is in memory, so only the per-call key parsing is measured.)
 */
function decryptLikeMicrosoftSample(ec: EncryptedContent, privateKeyPem: string): unknown {
	const symmetricKey = privateDecrypt(privateKeyPem, Buffer.from(ec.dataKey, 'base64'));
	const hmac = createHmac('sha256', symmetricKey);
	hmac.write(ec.data, 'base64');
	if (ec.dataSignature !== hmac.digest('base64')) throw new Error('dataSignature mismatch');
	const iv = Buffer.alloc(16, 0);
	symmetricKey.copy(iv, 0, 0, 16);
	const decipher = createDecipheriv('aes-256-cbc', symmetricKey, iv);
	let payload = decipher.update(ec.data, 'base64', 'utf8');
	payload += decipher.final('utf8');
	return JSON.parse(payload);
}

interface KeySetup {
	bits: RsaKeySize;
	payloads: EncryptedContent[];
	payloadBytes: number;
	keyRing: DecryptionKeyRing;
	ours: (ec: EncryptedContent) => unknown;
	rsaOnly: (ec: EncryptedContent) => unknown;
	pemPerCall: (ec: EncryptedContent) => unknown;
	forge: (ec: EncryptedContent) => unknown;
}

function setUp(bits: RsaKeySize, count: number): KeySetup {
	const generated = generateSelfSignedCertificate({ keySize: bits, subject: `CN=bench ${bits}` });
	const certificateId = `bench-${bits}`;
	const certificate = readNotificationCertificate({
		certificateFormat: 'pem',
		certificatePem: generated.certificatePem,
		privateKeyPem: generated.privateKeyPem,
		certificateId,
	});
	const resource = callEventOfAbout1Kb(CALL_RESOURCE('aaaaaaaa-0000-4000-8000-000000000001'));
	const payloadBytes = Buffer.byteLength(JSON.stringify(resource));
	const subscription = { encryptionCertificate: generated.certificateDerBase64, encryptionCertificateId: certificateId };
	const payloads = Array.from({ length: count }, () => encryptForSubscription(subscription, resource));
	const keyObject = certificate.keyRing.keyFor(certificateId)!;
	const forgeKey = forge.pki.privateKeyFromPem(generated.privateKeyPem) as forge.pki.rsa.PrivateKey;
	const setup: KeySetup = {
		bits,
		payloads,
		payloadBytes,
		keyRing: certificate.keyRing,
		ours: (ec) => decryptEncryptedContent(ec, certificate.keyRing),
		rsaOnly: (ec) =>
			privateDecrypt(
				{ key: keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
				Buffer.from(ec.dataKey, 'base64'),
			),
		pemPerCall: (ec) => decryptLikeMicrosoftSample(ec, generated.privateKeyPem),
		forge: (ec) => decryptWithForge(ec, forgeKey),
	};
	// All four must open the same payload to the same resource before anything is timed.
	const expected = JSON.stringify(resource);
	for (const name of ['ours', 'pemPerCall', 'forge'] as const) {
		if (JSON.stringify(setup[name](payloads[0])) !== expected) throw new Error(`${name} did not round-trip at ${bits} bits`);
	}
	return setup;
}

/** Operations per second over a bounded loop: stops at maxMs or maxOps, whichever comes first. */
function opsPerSecond(fn: (ec: EncryptedContent) => unknown, payloads: EncryptedContent[], maxMs: number, maxOps: number): number {
	// No variant pays for the previous one's allocations (forge's big integers above all).
	collectGarbage();
	let ops = 0;
	const start = now();
	let elapsed = 0;
	while (ops < maxOps) {
		fn(payloads[ops % payloads.length]);
		ops += 1;
		if ((ops & 3) === 0 || ops < 8) {
			elapsed = now() - start;
			if (elapsed >= maxMs) break;
		}
	}
	elapsed = now() - start;
	return (ops * 1000) / elapsed;
}

/**
 * The node's own batch path (`decryptEncryptedContents`, as the webhook calls it) with a pool of worker
 * threads: whole batches, one after the other, for about maxMs. Every outcome must be a resource.
 */
async function batchOpsPerSecond(setup: KeySetup, batchSize: number, pool: KeyUnwrapPool, maxMs: number): Promise<number> {
	const batch = Array.from({ length: batchSize }, (_, index) => setup.payloads[index % setup.payloads.length]);
	collectGarbage();
	let ops = 0;
	const start = now();
	while (now() - start < maxMs) {
		const outcomes = await decryptEncryptedContents(batch, setup.keyRing, { pool });
		if (outcomes.some((outcome) => !('resource' in outcome))) throw new Error(`the pool failed to open a payload at ${setup.bits} bits`);
		ops += outcomes.length;
	}
	return (ops * 1000) / (now() - start);
}

export type OpensslRun = Partial<Record<`rsa${RsaKeySize}`, { signPerSec: number; verifyPerSec: number }>>;

export function opensslAvailable(): boolean {
	return existsSync(OPENSSL);
}

export function opensslVersion(): string | undefined {
	if (!opensslAvailable()) return undefined;
	return spawnSync(OPENSSL, ['version'], { encoding: 'utf8' }).stdout.trim();
}

interface OpensslSpeedOptions {
	seconds: number;
	bits: RsaKeySize[];
	/** Wall-clock time, as the Node loops measure; without it `openssl speed` divides by its user CPU time. */
	elapsed: boolean;
	/** Processes run in parallel (`-multi`); their rates are summed. */
	processes?: number;
}

function runOpensslSpeed(options: OpensslSpeedOptions): OpensslRun {
	collectGarbage();
	const args = ['speed', '-seconds', String(options.seconds)];
	if (options.elapsed) args.push('-elapsed');
	if (options.processes && options.processes > 1) args.push('-multi', String(options.processes));
	args.push(...options.bits.map((bits) => `rsa${bits}`));
	const result = spawnSync(OPENSSL, args, { encoding: 'utf8', timeout: (options.seconds * 4 * options.bits.length + 60) * 1000 });
	if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
	const run: OpensslRun = {};
	for (const match of result.stdout.matchAll(/^rsa\s+(2048|3072|4096) bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/gm)) {
		run[`rsa${match[1]}` as keyof OpensslRun] = { signPerSec: Number(match[2]), verifyPerSec: Number(match[3]) };
	}
	return run;
}

export interface DecryptRow {
	bits: RsaKeySize;
	payloadBytes: number;
	runs: number;
	/** Worker threads of the pool measured in the "ours, threads" columns (the node's default on this machine). */
	threads: number;
	/** `openssl speed -elapsed`: one process, wall clock (the unit of every Node column). */
	opensslSignPerSec?: number;
	opensslRuns?: number[];
	/** `openssl speed` without -elapsed (its default: sign operations per second of user CPU time), once, for reference. */
	opensslCpuTimeSignPerSec?: number;
	/** `openssl speed -elapsed -multi <threads>`: the machine's ceiling for that many parallel workers. */
	opensslMultiSignPerSec?: number;
	opensslMultiRuns?: number[];
	oursPerSec: number;
	oursRuns: number[];
	oursThreadsPerSec: number;
	oursThreadsRuns: number[];
	rsaOnlyPerSec: number;
	pemPerCallPerSec: number;
	pemPerCallRuns: number[];
	forgePerSec: number;
	forgeRuns: number[];
	/** Median over runs of ours ÷ openssl measured next to it (one thread each). */
	percentOfOpenssl?: number;
	/** Median over runs of ours with threads ÷ `openssl speed -multi` with as many processes, measured next to it. */
	threadsPercentOfOpensslMulti?: number;
	/** As deployed: the node's batch path (threads) ÷ the single-threaded alternatives. */
	timesForge: number;
	timesPemPerCall: number;
	/** Per core: the node's one-thread path ÷ the same alternatives. */
	timesForgeOneThread: number;
	timesPemPerCallOneThread: number;
}

export interface DecryptOptions {
	runs: number;
	opensslSeconds: number;
	/** Time budget per measurement (ms) for the Node variants and forge. */
	nodeMs: number;
	forgeMs: number;
	/** Worker threads for the batch path; the node's default on this machine unless given. */
	threads?: number;
}

export async function benchDecrypt(options: DecryptOptions): Promise<{ rows: DecryptRow[]; openssl: string }> {
	log('part 1: generating RSA-2048 and RSA-4096 certificates and encrypted payloads');
	const setups = [setUp(2048, 512), setUp(4096, 128)];
	const threads = Math.max(1, options.threads ?? decryptThreadCount());
	const pool = new KeyUnwrapPool({ size: threads });
	const batchSize: Record<RsaKeySize, number> = { 2048: 1000, 3072: 300, 4096: 100 };
	const withOpenssl = opensslAvailable();
	const samples = new Map<string, number[]>();
	const push = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);

	try {
		// Warm-up (JIT, OpenSSL lazy init, worker start-up) outside the timed runs.
		for (const setup of setups) {
			for (const fn of [setup.ours, setup.rsaOnly, setup.pemPerCall]) opsPerSecond(fn, setup.payloads, 200, 10_000);
			opsPerSecond(setup.forge, setup.payloads, 200, 10);
			await batchOpsPerSecond(setup, batchSize[setup.bits], pool, 200);
		}
		const cpuTime = withOpenssl ? runOpensslSpeed({ seconds: options.opensslSeconds, bits: [2048, 4096], elapsed: false }) : {};

		for (let run = 1; run <= options.runs; run++) {
			log(`part 1: run ${run}/${options.runs}`);
			for (const setup of setups) {
				const { bits } = setup;
				const budget = bits === 4096 ? options.nodeMs * 2 : options.nodeMs;
				// Each comparison to openssl is a pair measured back to back, in alternating order (openssl first in
				// odd runs, ours first in even ones), so that drift on a shared machine hits both sides alike; the
				// percentage is the median of the per-pair ratios.
				const opensslFirst = run % 2 === 1;
				const pair = async (names: { ours: string; openssl: string; ratio: string }, measureOpenssl: () => number | undefined, measureOurs: () => Promise<number>) => {
					let opensslRate: number | undefined;
					if (opensslFirst && withOpenssl) opensslRate = measureOpenssl();
					const oursRate = await measureOurs();
					if (!opensslFirst && withOpenssl) opensslRate = measureOpenssl();
					push(`${names.ours}-${bits}`, oursRate);
					if (opensslRate !== undefined) {
						push(`${names.openssl}-${bits}`, opensslRate);
						push(`${names.ratio}-${bits}`, oursRate / opensslRate);
					}
				};
				await pair(
					{ ours: 'ours', openssl: 'openssl', ratio: 'ratio' },
					() => runOpensslSpeed({ seconds: options.opensslSeconds, bits: [bits], elapsed: true })[`rsa${bits}`]?.signPerSec,
					async () => opsPerSecond(setup.ours, setup.payloads, budget, 1_000_000),
				);
				await pair(
					{ ours: 'threads', openssl: 'openssl-multi', ratio: 'ratio-multi' },
					() => runOpensslSpeed({ seconds: options.opensslSeconds, bits: [bits], elapsed: true, processes: threads })[`rsa${bits}`]?.signPerSec,
					() => batchOpsPerSecond(setup, batchSize[bits], pool, budget),
				);
				push(`rsa-${bits}`, opsPerSecond(setup.rsaOnly, setup.payloads, budget, 1_000_000));
				push(`pem-${bits}`, opsPerSecond(setup.pemPerCall, setup.payloads, budget, 1_000_000));
				push(`forge-${bits}`, opsPerSecond(setup.forge, setup.payloads, options.forgeMs, 10_000));
			}
		}

		const rows = setups.map((setup): DecryptRow => {
			const get = (name: string) => samples.get(`${name}-${setup.bits}`) ?? [];
			const ours = median(get('ours'));
			const oursThreads = median(get('threads'));
			const forgeRate = median(get('forge'));
			const pemRate = median(get('pem'));
			return {
				bits: setup.bits,
				payloadBytes: setup.payloadBytes,
				runs: options.runs,
				threads,
				opensslSignPerSec: withOpenssl ? median(get('openssl')) : undefined,
				opensslRuns: withOpenssl ? get('openssl') : undefined,
				opensslCpuTimeSignPerSec: cpuTime[`rsa${setup.bits}`]?.signPerSec,
				opensslMultiSignPerSec: withOpenssl ? median(get('openssl-multi')) : undefined,
				opensslMultiRuns: withOpenssl ? get('openssl-multi') : undefined,
				oursPerSec: ours,
				oursRuns: get('ours'),
				oursThreadsPerSec: oursThreads,
				oursThreadsRuns: get('threads'),
				rsaOnlyPerSec: median(get('rsa')),
				pemPerCallPerSec: pemRate,
				pemPerCallRuns: get('pem'),
				forgePerSec: forgeRate,
				forgeRuns: get('forge'),
				percentOfOpenssl: withOpenssl ? 100 * median(get('ratio')) : undefined,
				threadsPercentOfOpensslMulti: withOpenssl ? 100 * median(get('ratio-multi')) : undefined,
				timesForge: oursThreads / forgeRate,
				timesPemPerCall: oursThreads / pemRate,
				timesForgeOneThread: ours / forgeRate,
				timesPemPerCallOneThread: ours / pemRate,
			};
		});
		return { rows, openssl: withOpenssl ? (opensslVersion() ?? '') : `not found at ${OPENSSL}: column skipped` };
	} finally {
		await pool.close();
	}
}
