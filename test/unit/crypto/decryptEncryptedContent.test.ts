import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes } from 'node:crypto';

import { DecryptionKeyRing } from '../../../lib/crypto/decryptionKeyRing';
import { decryptEncryptedContent } from '../../../lib/crypto/decryptEncryptedContent';
import {
	BadPaddingError,
	MalformedEncryptedContentError,
	NotJsonError,
	SignatureMismatchError,
	UnknownCertificateIdError,
	WrongKeyError,
	type NotificationDecryptionError,
} from '../../../lib/crypto/errors';
import { readNotificationCertificate } from '../../../lib/credentials/notificationCertificate';
import { encryptLikeGraph } from '../../support/graphEncryption';
import { graphSdkFixture } from '../../support/graphSdkFixture';
import { makeTestCertificate, type TestCertificate } from '../../support/testCertificates';

const fixture = graphSdkFixture;

const callEvent = {
	'@odata.type': '#microsoft.graph.callEvent',
	id: 'b3f1c0de-0000-4000-8000-000000000001',
	callEventType: 'callStarted',
	eventDateTime: '2026-11-26T10:00:00Z',
	note: 'ünïcødé ☎ kept as is',
	participants: [{ user: { id: 'u1', displayName: 'Adele' } }],
};

let key2048: TestCertificate;
let key4096: TestCertificate;
let stranger: TestCertificate;

beforeAll(() => {
	key2048 = makeTestCertificate({ bits: 2048 });
	key4096 = makeTestCertificate({ bits: 4096 });
	stranger = makeTestCertificate({ bits: 2048 });
});

function ringFor(cert: TestCertificate, id = 'cert-1'): DecryptionKeyRing {
	return new DecryptionKeyRing([{ certificateId: id, privateKey: cert.privateKey }]);
}

function failureOf(run: () => unknown): NotificationDecryptionError {
	try {
		run();
	} catch (error) {
		return error as NotificationDecryptionError;
	}
	throw new Error('expected decryption to fail');
}

describe('decryptEncryptedContent', () => {
	it.each([
		['2048', () => key2048],
		['4096', () => key4096],
	])('round-trips a Graph-sealed call event with an RSA-%s key', (_, cert) => {
		const sealed = encryptLikeGraph(callEvent, cert().certificatePem, 'cert-1');
		expect(decryptEncryptedContent(sealed, ringFor(cert()))).toEqual(callEvent);
	});

	it('decrypts with the previous key while a certificate is being rotated', () => {
		const ring = new DecryptionKeyRing([
			{ certificateId: 'new', privateKey: key2048.privateKey },
			{ certificateId: 'old', privateKey: stranger.privateKey },
		]);
		const sealedForOld = encryptLikeGraph(callEvent, stranger.certificatePem, 'old');
		expect(decryptEncryptedContent(sealedForOld, ring)).toEqual(callEvent);
	});

	it('refuses altered data before decrypting it', () => {
		const sealed = encryptLikeGraph(callEvent, key2048.certificatePem, 'cert-1');
		const bytes = Buffer.from(sealed.data, 'base64');
		bytes[5] ^= 0x01;
		const error = failureOf(() =>
			decryptEncryptedContent({ ...sealed, data: bytes.toString('base64') }, ringFor(key2048)),
		);
		expect(error).toBeInstanceOf(SignatureMismatchError);
		expect(error.code).toBe('SIGNATURE_MISMATCH');
	});

	it('refuses an altered or truncated signature', () => {
		const sealed = encryptLikeGraph(callEvent, key2048.certificatePem, 'cert-1');
		const other = encryptLikeGraph(callEvent, key2048.certificatePem, 'cert-1');
		expect(
			failureOf(() => decryptEncryptedContent({ ...sealed, dataSignature: other.dataSignature }, ringFor(key2048))),
		).toBeInstanceOf(SignatureMismatchError);
		expect(
			failureOf(() =>
				decryptEncryptedContent({ ...sealed, dataSignature: sealed.dataSignature.slice(0, 20) }, ringFor(key2048)),
			),
		).toBeInstanceOf(SignatureMismatchError);
	});

	it('reports a data key encrypted for another key as WrongKeyError', () => {
		const sealed = encryptLikeGraph(callEvent, stranger.certificatePem, 'cert-1');
		const error = failureOf(() => decryptEncryptedContent(sealed, ringFor(key2048)));
		expect(error).toBeInstanceOf(WrongKeyError);
		expect(error.message).not.toMatch(/BEGIN|PRIVATE/);
	});

	it.each([
		['PKCS#1 v1.5', { padding: constants.RSA_PKCS1_PADDING }],
		['OAEP with SHA-256', { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }],
	])('accepts only RSA-OAEP with SHA-1 for the data key: one wrapped with %s is refused', (_, padding) => {
		const sealed = encryptLikeGraph(callEvent, key2048.certificatePem, 'cert-1');
		const dataKey = publicEncrypt({ key: key2048.certificatePem, ...padding }, sealed.symmetricKey).toString('base64');
		expect(failureOf(() => decryptEncryptedContent({ ...sealed, dataKey }, ringFor(key2048)))).toBeInstanceOf(WrongKeyError);
	});

	it('names an unknown certificate ID without exposing anything else', () => {
		const sealed = encryptLikeGraph(callEvent, key2048.certificatePem, 'someone-else');
		const error = failureOf(() => decryptEncryptedContent(sealed, ringFor(key2048)));
		expect(error).toBeInstanceOf(UnknownCertificateIdError);
		expect(error.message).toContain('"someone-else"');
	});

	it('reports bad padding under a valid signature as BadPaddingError', () => {
		// Sign and encrypt a last block that is not PKCS#7 padded: only the padding check can catch it.
		const symmetricKey = randomBytes(32);
		const cipher = createCipheriv('aes-256-cbc', symmetricKey, symmetricKey.subarray(0, 16));
		cipher.setAutoPadding(false);
		const block = Buffer.alloc(32, 0x41);
		block[31] = 0x00;
		const data = Buffer.concat([cipher.update(block), cipher.final()]);
		const sealed = encryptLikeGraph({}, key2048.certificatePem, 'cert-1');
		const wrapped = {
			...sealed,
			dataKey: encryptLikeGraphKey(symmetricKey, key2048.certificatePem),
			data: data.toString('base64'),
			dataSignature: createHmac('sha256', symmetricKey).update(data).digest('base64'),
		};
		expect(failureOf(() => decryptEncryptedContent(wrapped, ringFor(key2048)))).toBeInstanceOf(BadPaddingError);
	});

	it('reports a payload that is not JSON as NotJsonError', () => {
		const sealed = encryptLikeGraph(null, key2048.certificatePem, 'cert-1', Buffer.from('<html>nope</html>'));
		expect(failureOf(() => decryptEncryptedContent(sealed, ringFor(key2048)))).toBeInstanceOf(NotJsonError);
	});

	it.each([
		['not an object', 'hello'],
		['an array', []],
		['null', null],
		['no certificate ID', { data: 'AA==', dataKey: 'AA==', dataSignature: 'AA==' }],
		['data not base64', { encryptionCertificateId: 'cert-1', data: '***', dataKey: 'AA==', dataSignature: 'AA==' }],
		['a number for dataKey', { encryptionCertificateId: 'cert-1', data: 'AA==', dataKey: 7, dataSignature: 'AA==' }],
	])('refuses encryptedContent that is %s', (_, content) => {
		expect(failureOf(() => decryptEncryptedContent(content, ringFor(key2048)))).toBeInstanceOf(
			MalformedEncryptedContentError,
		);
	});

	it('decrypts the real Graph fixture through the credential\'s PFX path', () => {
		const certificate = readNotificationCertificate({
			certificateFormat: 'pfx',
			pfxBase64: fixture.pfxBase64,
			pfxPassword: fixture.pfxPassword,
			certificateId: fixture.encryptedContent.encryptionCertificateId,
		});
		// The fixture's certificate expired in 2023: decryption must not care, only subscriptions do.
		const resource = decryptEncryptedContent(fixture.encryptedContent, certificate.keyRing) as {
			id: string;
			etag: string;
			body: { content: string; contentType: string };
		};
		expect(resource.id).toBe(fixture.expected.id);
		expect(resource.etag).toBe(fixture.expected.etag);
		expect(resource.body.content).toBe(fixture.expected['body.content']);
		expect(resource.body.contentType).toBe(fixture.expected['body.contentType']);
	});
});

function encryptLikeGraphKey(symmetricKey: Buffer, certificatePem: string): string {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const { publicEncrypt, constants } = require('node:crypto') as typeof import('node:crypto');
	return publicEncrypt(
		{ key: certificatePem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
		symmetricKey,
	).toString('base64');
}
