import { createSign, createVerify, constants, type KeyObject } from 'crypto';

/**
 * Minimal JWS compact serialisation with Node crypto. The simulator needs only RS256 (what Entra signs with)
 * and PS256 (what MSAL uses for certificate client assertions); no JWT library is a direct dependency.
 */
export type JwtAlgorithm = 'RS256' | 'PS256';

export interface DecodedJwt {
	header: Record<string, unknown>;
	payload: Record<string, unknown>;
	signingInput: string;
	signature: Buffer;
}

export const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function signatureOptions(alg: JwtAlgorithm, key: KeyObject) {
	// PS256 = RSA-PSS with SHA-256, MGF1-SHA-256, salt length = digest length (RFC 7518 §3.5).
	return alg === 'PS256'
		? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
		: { key, padding: constants.RSA_PKCS1_PADDING };
}

export function signJwt(
	header: Record<string, unknown>,
	payload: Record<string, unknown>,
	privateKey: KeyObject,
	alg: JwtAlgorithm = 'RS256',
): string {
	const signingInput = `${base64url(JSON.stringify({ ...header, alg }))}.${base64url(JSON.stringify(payload))}`;
	const signer = createSign('sha256');
	signer.update(signingInput);
	return `${signingInput}.${signer.sign(signatureOptions(alg, privateKey)).toString('base64url')}`;
}

/** Splits and parses a compact JWS; returns undefined for anything malformed instead of throwing. */
export function decodeJwt(token: string): DecodedJwt | undefined {
	const parts = token.split('.');
	if (parts.length !== 3) return undefined;
	try {
		const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
		const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
		if (!isObject(header) || !isObject(payload)) return undefined;
		return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
	} catch {
		return undefined;
	}
}

export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
	const alg = jwt.header.alg;
	if (alg !== 'RS256' && alg !== 'PS256') return false;
	try {
		const verifier = createVerify('sha256');
		verifier.update(jwt.signingInput);
		return verifier.verify(signatureOptions(alg, publicKey), jwt.signature);
	} catch {
		return false;
	}
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
