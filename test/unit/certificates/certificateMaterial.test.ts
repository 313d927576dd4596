import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

import { loadCertificateMaterial } from '../../../lib/certificates/certificateMaterial';
import { CertificateInputError } from '../../../lib/certificates/errors';
import { graphSdkFixture } from '../../support/graphSdkFixture';
import {
	encryptedPkcs8Pem,
	makeTestCertificate,
	makeTestPfxBase64,
	type TestCertificate,
} from '../../support/testCertificates';

const fixture = graphSdkFixture;

let subject: TestCertificate;
let other: TestCertificate;

beforeAll(() => {
	subject = makeTestCertificate();
	other = makeTestCertificate();
});

function expectInputError(run: () => unknown, message: RegExp): void {
	let thrown: unknown;
	try {
		run();
	} catch (error) {
		thrown = error;
	}
	expect(thrown).toBeInstanceOf(CertificateInputError);
	expect((thrown as Error).message).toMatch(message);
}

describe('loadCertificateMaterial from PEM', () => {
	it.each([
		['PKCS#8', () => subject.pkcs8Pem],
		['PKCS#1', () => subject.pkcs1Pem],
	])('reads a %s key and normalises it to unencrypted PKCS#8', (_, key) => {
		const material = loadCertificateMaterial({
			format: 'pem',
			certificatePem: subject.certificatePem,
			privateKeyPem: key(),
		});
		expect(material.privateKeyPkcs8Pem).toContain('-----BEGIN PRIVATE KEY-----');
		expect(material.privateKeyPkcs8Pem).toBe(subject.pkcs8Pem);
	});

	it('computes thumbprints over the certificate DER, hex upper case without colons', () => {
		const material = loadCertificateMaterial({
			format: 'pem',
			certificatePem: subject.certificatePem,
			privateKeyPem: subject.pkcs8Pem,
		});
		const x509 = new X509Certificate(subject.certificatePem);
		expect(material.thumbprintSha256).toBe(x509.fingerprint256.replace(/:/g, ''));
		expect(material.thumbprintSha1).toBe(x509.fingerprint.replace(/:/g, ''));
		expect(material.certificateDerBase64).toBe(x509.raw.toString('base64'));
		expect(material.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
	});

	it('reads an encrypted PKCS#8 key with its passphrase', () => {
		const material = loadCertificateMaterial({
			format: 'pem',
			certificatePem: subject.certificatePem,
			privateKeyPem: encryptedPkcs8Pem(subject.privateKey, 'correct horse'),
			passphrase: 'correct horse',
		});
		expect(material.privateKeyPkcs8Pem).toBe(subject.pkcs8Pem);
	});

	it('asks for the passphrase of an encrypted key, and says when it is wrong', () => {
		const encrypted = encryptedPkcs8Pem(subject.privateKey, 'correct horse');
		const input = { format: 'pem' as const, certificatePem: subject.certificatePem, privateKeyPem: encrypted };
		expectInputError(() => loadCertificateMaterial(input), /encrypted: enter its passphrase/);
		expectInputError(
			() => loadCertificateMaterial({ ...input, passphrase: 'battery staple' }),
			/passphrase is wrong/,
		);
	});

	it('accepts PEM pasted with literal \\n sequences and Windows line endings', () => {
		const material = loadCertificateMaterial({
			format: 'pem',
			certificatePem: subject.certificatePem.replace(/\n/g, '\r\n'),
			privateKeyPem: subject.pkcs8Pem.replace(/\n/g, '\\n'),
		});
		expect(material.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
		const oneLine = loadCertificateMaterial({
			format: 'pem',
			certificatePem: subject.certificatePem.replace(/\r?\n/g, ' '),
			privateKeyPem: subject.pkcs1Pem.replace(/\n/g, ''),
		});
		expect(oneLine.thumbprintSha256).toBe(material.thumbprintSha256);
	});

	it('reads a legacy encrypted PKCS#1 key (Proc-Type header) with its passphrase', () => {
		const legacy = forge.pki.encryptRsaPrivateKey(subject.forgeKey, 'old school', { legacy: true, algorithm: 'aes256' });
		expect(legacy).toContain('Proc-Type: 4,ENCRYPTED');
		const input = { format: 'pem' as const, certificatePem: subject.certificatePem, privateKeyPem: legacy };
		expectInputError(() => loadCertificateMaterial(input), /enter its passphrase/);
		expect(loadCertificateMaterial({ ...input, passphrase: 'old school' }).privateKeyPkcs8Pem).toBe(subject.pkcs8Pem);
	});

	it('refuses a key that does not belong to the certificate', () => {
		expectInputError(
			() =>
				loadCertificateMaterial({
					format: 'pem',
					certificatePem: subject.certificatePem,
					privateKeyPem: other.pkcs8Pem,
				}),
			/does not belong to the certificate/,
		);
	});

	it('finds the leaf in a bundle and puts it first in the chain', () => {
		const material = loadCertificateMaterial({
			format: 'pem',
			certificatePem: other.certificatePem + subject.certificatePem,
			privateKeyPem: subject.pkcs8Pem,
		});
		expect(material.chainPems).toHaveLength(2);
		expect(material.chainPems[0]).toBe(subject.certificatePem.replace(/\r\n/g, '\n'));
		expect(material.certificate.checkPrivateKey(subject.privateKey)).toBe(true);
	});

	it('refuses a non-RSA key', () => {
		const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
		expectInputError(
			() =>
				loadCertificateMaterial({
					format: 'pem',
					certificatePem: subject.certificatePem,
					privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
				}),
			/ec; Microsoft Graph and Entra ID need an RSA key/,
		);
	});

	it.each([
		['no certificate', { certificatePem: '', privateKeyPem: 'x' }, /not in PEM format/],
		['a truncated key', { privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, /could not be read/],
		['a missing certificate', { certificatePem: 'hello' }, /No certificate found/],
		['a broken certificate', { certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, /certificate could not be read/],
	])('explains %s', (_, override, message) => {
		expectInputError(
			() =>
				loadCertificateMaterial({
					format: 'pem',
					certificatePem: subject.certificatePem,
					privateKeyPem: subject.pkcs8Pem,
					...override,
				}),
			message,
		);
	});
});

describe('loadCertificateMaterial from PFX', () => {
	it.each([
		['AES-256 with a password', 'pfx-pass', 'aes256' as const],
		['3DES with a password', 'pfx-pass', '3des' as const],
		['no password', null, '3des' as const],
	])('reads a PFX (%s)', (_, password, algorithm) => {
		const pfxBase64 = makeTestPfxBase64(subject.forgeKey, [subject.forgeCertificate], password, algorithm);
		const material = loadCertificateMaterial({ format: 'pfx', pfxBase64, password: password ?? '' });
		expect(material.privateKeyPkcs8Pem).toBe(subject.pkcs8Pem);
		expect(material.certificate.raw.equals(new X509Certificate(subject.certificatePem).raw)).toBe(true);
	});

	it('reads the legacy RC2/3DES PFX that Microsoft ships with its Graph SDK tests', () => {
		const material = loadCertificateMaterial({
			format: 'pfx',
			pfxBase64: fixture.pfxBase64,
			password: fixture.pfxPassword,
		});
		expect(material.thumbprintSha1).toBe(fixture.expected.certificateSha1Thumbprint);
		expect(material.privateKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
	});

	it('says when the PFX password is wrong', () => {
		const pfxBase64 = makeTestPfxBase64(subject.forgeKey, [subject.forgeCertificate], 'right');
		expectInputError(() => loadCertificateMaterial({ format: 'pfx', pfxBase64, password: 'wrong' }), /PFX password is wrong/);
	});

	it('says when the PFX is not base64 or not PKCS#12', () => {
		expectInputError(() => loadCertificateMaterial({ format: 'pfx', pfxBase64: 'not base64 at all!' }), /pasted as base64/);
		expectInputError(
			() => loadCertificateMaterial({ format: 'pfx', pfxBase64: Buffer.from('hello world').toString('base64') }),
			/could not be read/,
		);
	});

	it('never puts the password or key material in an error message', () => {
		const password = 'pfx-secret-Password-123';
		const pfxBase64 = makeTestPfxBase64(subject.forgeKey, [subject.forgeCertificate], password);
		const messages: string[] = [];
		for (const attempt of [
			() => loadCertificateMaterial({ format: 'pfx', pfxBase64, password: password + 'x' }),
			() => loadCertificateMaterial({ format: 'pfx', pfxBase64: pfxBase64.slice(0, 200), password }),
			() =>
				loadCertificateMaterial({
					format: 'pem',
					certificatePem: subject.certificatePem,
					privateKeyPem: encryptedPkcs8Pem(subject.privateKey, password),
					passphrase: 'nope',
				}),
		]) {
			try {
				attempt();
			} catch (error) {
				messages.push(String((error as Error).message));
			}
		}
		expect(messages).toHaveLength(3);
		const keyBody = subject.pkcs8Pem.split('\n')[1];
		for (const message of messages) {
			expect(message).not.toContain(password);
			expect(message).not.toContain(keyBody);
			expect(message).not.toContain(pfxBase64.slice(0, 40));
		}
	});
});
