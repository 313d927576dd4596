/* eslint-disable @n8n/community-nodes/no-dangerous-functions -- benchmark code, not node code: it runs `openssl speed` for the ceiling (fixed arguments). */
import { spawnSync } from 'node:child_process';
import { constants, createDecipheriv, createHmac, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import forge from 'node-forge';

import { generateSelfSignedCertificate, type RsaKeySize } from '../lib/certificates/generateSelfSignedCertificate';
import { readNotificationCertificate } from '../lib/credentials/notificationCertificate';
import { decryptEncryptedContent, type EncryptedContent } from '../lib/crypto/decryptEncryptedContent';
import { encryptForSubscription } from '../test/simulator/encryption';
import { CALL_RESOURCE, callEventOfAbout1Kb } from './payloads';
import { log, median, now } from './stats';

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

export interface OpensslRun {
	rsa2048?: { signPerSec: number; verifyPerSec: number };
	rsa4096?: { signPerSec: number; verifyPerSec: number };
}

export function opensslAvailable(): boolean {
	return existsSync(OPENSSL);
}

export function opensslVersion(): string | undefined {
	if (!opensslAvailable()) return undefined;
	return spawnSync(OPENSSL, ['version'], { encoding: 'utf8' }).stdout.trim();
}

function runOpensslSpeed(seconds: number): OpensslRun {
	const result = spawnSync(OPENSSL, ['speed', '-seconds', String(seconds), 'rsa2048', 'rsa4096'], {
		encoding: 'utf8',
		timeout: (seconds * 4 + 60) * 1000,
	});
	if (result.status !== 0) throw new Error(`openssl speed failed: ${result.stderr}`);
	const run: OpensslRun = {};
	for (const match of result.stdout.matchAll(/^rsa\s+(2048|4096) bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/gm)) {
		run[`rsa${match[1]}` as 'rsa2048'] = { signPerSec: Number(match[2]), verifyPerSec: Number(match[3]) };
	}
	return run;
}

export interface DecryptRow {
	bits: RsaKeySize;
	payloadBytes: number;
	runs: number;
	opensslSignPerSec?: number;
	opensslRuns?: number[];
	oursPerSec: number;
	oursRuns: number[];
	rsaOnlyPerSec: number;
	pemPerCallPerSec: number;
	pemPerCallRuns: number[];
	forgePerSec: number;
	forgeRuns: number[];
	percentOfOpenssl?: number;
	timesForge: number;
	timesPemPerCall: number;
}

export interface DecryptOptions {
	runs: number;
	opensslSeconds: number;
	/** Time budget per measurement (ms) for the Node variants and forge. */
	nodeMs: number;
	forgeMs: number;
}

export function benchDecrypt(options: DecryptOptions): { rows: DecryptRow[]; openssl: string } {
	log('part 1: generating RSA-2048 and RSA-4096 certificates and encrypted payloads');
	const setups = [setUp(2048, 512), setUp(4096, 128)];
	const withOpenssl = opensslAvailable();
	const samples = new Map<string, number[]>();
	const push = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);

	// Warm-up (JIT, OpenSSL lazy init) outside the timed runs.
	for (const setup of setups) {
		for (const fn of [setup.ours, setup.rsaOnly, setup.pemPerCall]) opsPerSecond(fn, setup.payloads, 200, 10_000);
		opsPerSecond(setup.forge, setup.payloads, 200, 10);
	}

	for (let run = 1; run <= options.runs; run++) {
		log(`part 1: run ${run}/${options.runs}`);
		// Side by side in each run: openssl speed, then every Node variant for both key sizes.
		if (withOpenssl) {
			const speed = runOpensslSpeed(options.opensslSeconds);
			for (const bits of [2048, 4096] as const) {
				const entry = speed[`rsa${bits}`];
				if (entry) push(`openssl-${bits}`, entry.signPerSec);
			}
		}
		for (const setup of setups) {
			const budget = setup.bits === 4096 ? options.nodeMs * 2 : options.nodeMs;
			push(`ours-${setup.bits}`, opsPerSecond(setup.ours, setup.payloads, budget, 1_000_000));
			push(`rsa-${setup.bits}`, opsPerSecond(setup.rsaOnly, setup.payloads, budget, 1_000_000));
			push(`pem-${setup.bits}`, opsPerSecond(setup.pemPerCall, setup.payloads, budget, 1_000_000));
			push(`forge-${setup.bits}`, opsPerSecond(setup.forge, setup.payloads, options.forgeMs, 10_000));
		}
	}

	const rows = setups.map((setup): DecryptRow => {
		const get = (name: string) => samples.get(`${name}-${setup.bits}`) ?? [];
		const ours = median(get('ours'));
		const openssl = withOpenssl ? median(get('openssl')) : undefined;
		return {
			bits: setup.bits,
			payloadBytes: setup.payloadBytes,
			runs: options.runs,
			opensslSignPerSec: openssl,
			opensslRuns: withOpenssl ? get('openssl') : undefined,
			oursPerSec: ours,
			oursRuns: get('ours'),
			rsaOnlyPerSec: median(get('rsa')),
			pemPerCallPerSec: median(get('pem')),
			pemPerCallRuns: get('pem'),
			forgePerSec: median(get('forge')),
			forgeRuns: get('forge'),
			percentOfOpenssl: openssl ? (100 * ours) / openssl : undefined,
			timesForge: ours / median(get('forge')),
			timesPemPerCall: ours / median(get('pem')),
		};
	});
	return { rows, openssl: withOpenssl ? (opensslVersion() ?? '') : `not found at ${OPENSSL}: column skipped` };
}
