import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * Certificates for tests, made independently of the package's own generator so that tests can also
 * build what the package must refuse (small keys, expired or future certificates, mismatched keys).
 */
export interface TestCertificate {
	certificatePem: string;
	pkcs8Pem: string;
	pkcs1Pem: string;
	privateKey: KeyObject;
	forgeKey: forge.pki.rsa.PrivateKey;
	forgeCertificate: forge.pki.Certificate;
}

const DAY = 86_400_000;

export function makeTestCertificate(
	options: { bits?: number; notBefore?: Date; notAfter?: Date; commonName?: string } = {},
): TestCertificate {
	const { privateKey } = generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
	const pkcs8Pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
	const pkcs1Pem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
	const forgeKey = forge.pki.privateKeyFromPem(pkcs8Pem) as forge.pki.rsa.PrivateKey;
	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
	cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
	cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - DAY);
	cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 30 * DAY);
	const subject = [{ name: 'commonName', value: options.commonName ?? 'test certificate' }];
	cert.setSubject(subject);
	cert.setIssuer(subject);
	cert.sign(forgeKey, forge.md.sha256.create());
	return {
		certificatePem: forge.pki.certificateToPem(cert),
		pkcs8Pem,
		pkcs1Pem,
		privateKey,
		forgeKey,
		forgeCertificate: cert,
	};
}

export function makeTestPfxBase64(
	key: forge.pki.rsa.PrivateKey,
	certificates: forge.pki.Certificate[],
	password: string | null,
	algorithm: '3des' | 'aes256' = 'aes256',
): string {
	const asn1 = forge.pkcs12.toPkcs12Asn1(key, certificates, password, { algorithm });
	return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
}

export function encryptedPkcs8Pem(privateKey: KeyObject, passphrase: string): string {
	return privateKey
		.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase })
		.toString();
}
