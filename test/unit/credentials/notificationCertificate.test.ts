import {
	defaultCertificateId,
	readNotificationCertificate,
} from '../../../lib/credentials/notificationCertificate';
import { testNotificationCertificate } from '../../../lib/credentials/testCredentials';
import { fieldName } from '../../../lib/credentials/certificateInputFields';
import { loadCertificateMaterial } from '../../../lib/certificates/certificateMaterial';
import { decryptEncryptedContent } from '../../../lib/crypto/decryptEncryptedContent';
import { encryptLikeGraph } from '../../support/graphEncryption';
import { makeTestCertificate, makeTestPfxBase64, type TestCertificate } from '../../support/testCertificates';

const DAY = 86_400_000;
let current: TestCertificate;
let previous: TestCertificate;

beforeAll(() => {
	current = makeTestCertificate();
	previous = makeTestCertificate({ notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
});

const pemFields = (cert: TestCertificate, prefix = '') => ({
	[fieldName(prefix, 'certificateFormat')]: 'pem',
	[fieldName(prefix, 'certificatePem')]: cert.certificatePem,
	[fieldName(prefix, 'privateKeyPem')]: cert.pkcs8Pem,
});

describe('readNotificationCertificate', () => {
	it('provides the base64 DER certificate, an ID derived from the thumbprint, and the key', () => {
		const certificate = readNotificationCertificate(pemFields(current));
		const material = loadCertificateMaterial({
			format: 'pem', certificatePem: current.certificatePem, privateKeyPem: current.pkcs8Pem,
		});
		expect(certificate.encryptionCertificate).toBe(material.certificateDerBase64);
		expect(certificate.certificateId).toBe(defaultCertificateId(material));
		expect(certificate.certificateId).toMatch(/^sha256-[0-9a-f]{64}$/);
		expect(certificate.keyRing.certificateIds).toEqual([certificate.certificateId]);
		expect(certificate.keyBits).toBe(2048);
	});

	it('parses a credential once and reuses the result', () => {
		const data = pemFields(current);
		expect(readNotificationCertificate({ ...data })).toBe(readNotificationCertificate({ ...data }));
	});

	it('uses a custom ID, and refuses one over 128 characters or with spaces', () => {
		expect(readNotificationCertificate({ ...pemFields(current), certificateId: 'prod-2026' }).certificateId).toBe('prod-2026');
		expect(() => readNotificationCertificate({ ...pemFields(current), certificateId: 'x'.repeat(129) })).toThrow(/1 to 128 printable/);
		expect(() => readNotificationCertificate({ ...pemFields(current), certificateId: 'has space' })).toThrow(/1 to 128 printable/);
	});

	it('keeps the previous certificate for decryption during rotation, even once it has expired', () => {
		const certificate = readNotificationCertificate({
			...pemFields(current),
			certificateId: 'new',
			keepPrevious: true,
			...pemFields(previous, 'previous'),
			previousCertificateId: 'old',
		});
		expect(certificate.keyRing.certificateIds).toEqual(['new', 'old']);
		const sealed = encryptLikeGraph({ n: 1 }, previous.certificatePem, 'old');
		expect(decryptEncryptedContent(sealed, certificate.keyRing)).toEqual({ n: 1 });
	});

	it('refuses a previous certificate with the same ID as the current one', () => {
		expect(() =>
			readNotificationCertificate({
				...pemFields(current), certificateId: 'same', keepPrevious: true, ...pemFields(previous, 'previous'), previousCertificateId: 'same',
			}),
		).toThrow(/same ID/);
	});

	it('reads a PFX', () => {
		const pfxBase64 = makeTestPfxBase64(current.forgeKey, [current.forgeCertificate], 'pw');
		const fromPfx = readNotificationCertificate({ certificateFormat: 'pfx', pfxBase64, pfxPassword: 'pw' });
		expect(fromPfx.encryptionCertificate).toBe(readNotificationCertificate(pemFields(current)).encryptionCertificate);
	});
});

describe('testNotificationCertificate (the credential test)', () => {
	it('passes a usable certificate and describes it', async () => {
		const result = await testNotificationCertificate(pemFields(current));
		expect(result.status).toBe('OK');
		expect(result.message).toMatch(/^RSA 2048-bit certificate [0-9A-F]{40}, valid until \d{4}-\d\d-\d\d, ID "sha256-/);
	});

	it.each([
		['an expired certificate', () => pemFields(previous), /expired on/],
		['a certificate not valid yet', () => pemFields(makeTestCertificate({ notBefore: new Date(Date.now() + 2 * DAY), notAfter: new Date(Date.now() + 9 * DAY) })), /not valid before/],
		['a 1024-bit key', () => pemFields(makeTestCertificate({ bits: 1024 })), /RSA 1024 bits; it must be 2048 to 4096 bits/],
		['a key from another certificate', () => ({ ...pemFields(current), privateKeyPem: previous.pkcs8Pem }), /does not belong to the certificate/],
		['an empty form', () => ({}), /not in PEM format/],
	])('explains %s', async (_, data, message) => {
		const result = await testNotificationCertificate(data());
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(message);
	});

	it('accepts 4096 bits', async () => {
		expect((await testNotificationCertificate(pemFields(makeTestCertificate({ bits: 4096 })))).message).toMatch(/^RSA 4096-bit/);
	});
});
