import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'crypto';
import * as forge from 'node-forge';

/**
 * The simulator's token-signing key, standing in for Entra's: it signs access tokens and the
 * validationTokens that accompany rich notifications, and is published as a JWKS so receivers can verify
 * those tokens exactly as they would against login.microsoftonline.com (kid lookup, x5c/x5t present).
 */
export interface SigningKey {
	kid: string;
	privateKey: KeyObject;
	publicKey: KeyObject;
	certDer: Buffer;
}

export interface Jwk {
	kty: string;
	use: string;
	kid: string;
	x5t: string;
	n: string;
	e: string;
	x5c: string[];
	issuer?: string;
	alg?: string;
}

export function createSigningKey(): SigningKey {
	const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
	const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
	const certDer = selfSignedCertificateDer(pem);
	// Like Entra, the kid is the base64url SHA-1 thumbprint of the key's certificate (same as x5t).
	const kid = createHash('sha1').update(certDer).digest('base64url');
	return { kid, privateKey: createPrivateKey(pem), publicKey: createPublicKey(privateKey), certDer };
}

export function toJwk(key: SigningKey): Jwk {
	const jwk = key.publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
	return { kty: jwk.kty, use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e, x5c: [key.certDer.toString('base64')] };
}

function selfSignedCertificateDer(privateKeyPem: string): Buffer {
	const forgeKey = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
	cert.serialNumber = '0' + randomBytes(8).toString('hex').slice(1);
	cert.validity.notBefore = new Date(Date.now() - 86_400_000);
	cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
	const name = [{ name: 'commonName', value: 'accounts.simulator.localhost' }];
	cert.setSubject(name);
	cert.setIssuer(name);
	cert.sign(forgeKey, forge.md.sha256.create());
	return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}
