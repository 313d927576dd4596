import { decodeJwt, verifyJwtSignature } from './jwt';
import type { AppRegistration } from './directory';

/**
 * Checks a certificate client assertion the way Entra does: the header names the certificate by
 * thumbprint (x5t#S256 with PS256, or the legacy SHA-1 x5t with RS256), the signature must verify with
 * that registered certificate, and aud/iss/sub/exp must fit. Returns undefined when valid, else the reason
 * (Entra reports every such failure as AADSTS700027).
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const CLOCK_SKEW_SECONDS = 300;

export function checkClientAssertion(
	assertion: string,
	app: AppRegistration,
	tokenEndpointUrl: string,
	nowMs: number,
): string | undefined {
	const jwt = decodeJwt(assertion);
	if (!jwt) return 'Client assertion failed signature validation. The assertion is not a well-formed JWT.';
	const { header, payload } = jwt;

	let cert;
	if (header.alg === 'PS256' && typeof header['x5t#S256'] === 'string') {
		cert = app.certificates.find((c) => c.x5tS256 === header['x5t#S256']);
	} else if (header.alg === 'RS256' && typeof header.x5t === 'string') {
		cert = app.certificates.find((c) => c.x5t === header.x5t);
	} else {
		return `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(header['x5t#S256'] ?? header.x5t ?? '')}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`;
	}
	if (!cert) {
		return `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(header['x5t#S256'] ?? header.x5t)}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`;
	}
	if (!verifyJwtSignature(jwt, cert.x509.publicKey)) {
		return 'Client assertion contains an invalid signature. [Reason - The signature is invalid.]';
	}
	const nowSec = Math.floor(nowMs / 1000);
	if (payload.aud !== tokenEndpointUrl) {
		return `The audience claim in the client assertion '${String(payload.aud)}' is invalid. Expected '${tokenEndpointUrl}'.`;
	}
	if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
		return 'The client assertion issuer (iss) and subject (sub) must be the client id of the application.';
	}
	if (typeof payload.exp !== 'number' || payload.exp <= nowSec) {
		return 'The provided client assertion is expired.';
	}
	if (typeof payload.nbf === 'number' && payload.nbf - CLOCK_SKEW_SECONDS > nowSec) {
		return 'The provided client assertion is not yet valid.';
	}
	const certExpiry = Date.parse(cert.x509.validTo);
	if (!Number.isNaN(certExpiry) && certExpiry <= nowMs) {
		return 'Client assertion contains an invalid signature. [Reason - The key used is expired.]';
	}
	return undefined;
}
