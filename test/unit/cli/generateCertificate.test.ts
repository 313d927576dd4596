import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

import { loadCertificateMaterial } from '../../../lib/certificates/certificateMaterial';
import { runCli } from '../../../lib/cli/main';
import { decryptEncryptedContent } from '../../../lib/crypto/decryptEncryptedContent';
import { readNotificationCertificate } from '../../../lib/credentials/notificationCertificate';
import { encryptLikeGraph } from '../../support/graphEncryption';

function run(argv: string[]) {
	const out: string[] = [];
	const err: string[] = [];
	const code = runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
	return { code, out: out.join('\n'), err: err.join('\n') };
}

let dir: string;
beforeEach(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'teams-calls-cert-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('generate-certificate', () => {
	it('writes a PEM certificate, a PKCS#8 key and a PFX without password, and prints the thumbprints', () => {
		const result = run(['generate-certificate', '--out', dir]);
		expect(result.code).toBe(0);

		const certificatePem = readFileSync(path.join(dir, 'certificate.pem'), 'utf8');
		const privateKeyPem = readFileSync(path.join(dir, 'private-key.pem'), 'utf8');
		expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
		const x509 = new X509Certificate(certificatePem);
		expect(x509.subject).toBe('CN=n8n Teams call notifications');
		expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
		// Graph wraps its key with RSA (keyEncipherment); Entra ID checks assertion signatures (digitalSignature).
		const keyUsage = forge.pki.certificateFromPem(certificatePem).getExtension('keyUsage') as Record<string, boolean>;
		expect(keyUsage).toMatchObject({ digitalSignature: true, keyEncipherment: true });

		expect(result.out).toContain(`SHA-1 thumbprint:   ${x509.fingerprint.replace(/:/g, '')}`);
		expect(result.out).toContain(`SHA-256 thumbprint: ${x509.fingerprint256.replace(/:/g, '')}`);
		expect(result.out).toContain(x509.raw.toString('base64'));
		expect(result.out).not.toContain('PRIVATE KEY');

		const fromPfx = loadCertificateMaterial({
			format: 'pfx',
			pfxBase64: readFileSync(path.join(dir, 'certificate.pfx')).toString('base64'),
		});
		expect(fromPfx.privateKeyPkcs8Pem).toBe(privateKeyPem);
		expect(statSync(path.join(dir, 'private-key.pem')).mode & 0o777).toBe(0o600);
		expect(statSync(path.join(dir, 'certificate.pfx')).mode & 0o777).toBe(0o600);
	});

	it('honours key size, subject, validity and PFX password', () => {
		const result = run([
			'generate-certificate', '--out', dir, '--key-size', '3072',
			'--subject', 'CN=Contoso calls, O=Contoso, C=US', '--days', '30', '--password', 's3cret!',
		]);
		expect(result.code).toBe(0);
		const x509 = new X509Certificate(readFileSync(path.join(dir, 'certificate.pem')));
		expect(x509.subject.split('\n')).toEqual(['CN=Contoso calls', 'O=Contoso', 'C=US']);
		expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
		const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
		expect(Math.round(days)).toBe(30);
		const pfxBase64 = readFileSync(path.join(dir, 'certificate.pfx')).toString('base64');
		expect(() => loadCertificateMaterial({ format: 'pfx', pfxBase64, password: 'wrong' })).toThrow(/password is wrong/);
		expect(loadCertificateMaterial({ format: 'pfx', pfxBase64, password: 's3cret!' }).certificate.raw).toEqual(x509.raw);
		expect(result.out).not.toContain('s3cret!');
	});

	it('makes a certificate Graph can encrypt to and the credential can decrypt with', () => {
		expect(run(['generate-certificate', '--out', dir]).code).toBe(0);
		const certificatePem = readFileSync(path.join(dir, 'certificate.pem'), 'utf8');
		const certificate = readNotificationCertificate({
			certificateFormat: 'pem',
			certificatePem,
			privateKeyPem: readFileSync(path.join(dir, 'private-key.pem'), 'utf8'),
		});
		const sealed = encryptLikeGraph({ hello: 'world' }, certificatePem, certificate.certificateId);
		expect(decryptEncryptedContent(sealed, certificate.keyRing)).toEqual({ hello: 'world' });
	});

	it('refuses to overwrite unless --force is given', () => {
		writeFileSync(path.join(dir, 'private-key.pem'), 'keep me');
		const refused = run(['generate-certificate', '--out', dir]);
		expect(refused.code).toBe(2);
		expect(refused.err).toMatch(/Not overwriting .*private-key\.pem.*--force/);
		expect(readFileSync(path.join(dir, 'private-key.pem'), 'utf8')).toBe('keep me');
		expect(run(['generate-certificate', '--out', dir, '--force']).code).toBe(0);
		expect(readFileSync(path.join(dir, 'private-key.pem'), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
	});

	it.each([
		[['generate-certificate'], /--out <dir> is required/],
		[['generate-certificate', '--out', '.', '--key-size', '1024'], /--key-size must be one of 2048, 3072, 4096/],
		[['generate-certificate', '--out', '.', '--days', '0'], /--days must be a whole number/],
		[['generate-certificate', '--out', '.', '--subject', 'O=No common name'], /needs a common name/],
		[['generate-certificate', '--bogus'], /Unknown option '--bogus'/],
		[['make-coffee'], /Unknown command "make-coffee"/],
	])('rejects %j with a usage message', (argv, message) => {
		const result = run(argv.map((arg) => (arg === '.' ? dir : arg)));
		expect(result.code).toBeGreaterThan(0);
		expect(result.err).toMatch(message);
	});

	it('prints help', () => {
		const result = run(['generate-certificate', '--help']);
		expect(result.code).toBe(0);
		expect(result.out).toMatch(/--key-size <bits>/);
	});
});
