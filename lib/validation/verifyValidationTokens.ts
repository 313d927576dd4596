import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

import type { TenantKeys } from './tenantSigningKeys';

/** The application Microsoft Graph uses to sign change notifications (Graph's documentation). */
export const GRAPH_CHANGE_NOTIFICATION_PUBLISHER = '0bf30f3b-4a52-48df-9a82-234910c4a086';
const CLOCK_TOLERANCE_SECONDS = 300;

export interface ValidationTokenExpectation {
	clientId: string;
	/** The tenant's issuers, GUID and keys, from its OpenID configuration. */
	tenant: TenantKeys;
}

/** `retryable`: the tokens could not be checked yet (keys unavailable), so Graph should deliver again. */
export type ValidationTokenVerdict = { valid: true } | { valid: false; reason: string; retryable?: boolean };

/** A key the set in memory does not hold: refetched (rate-limited) in case Microsoft rotated its keys. */
export type KeyAfterRotation = (kid: string) => Promise<KeyObject | 'unavailable' | undefined>;

/**
 * Graph signs each rich-notification batch with one JWT per app and tenant. Every token must be signed
 * by the Microsoft identity platform, be current, be addressed to one of our apps (two while a switch of
 * app registration is under way), come from its tenant and from Graph's notification publisher. With the
 * keys in memory this costs one RSA verification per token and app tried. The first app's reason is given.
 */
export async function verifyValidationTokensForApps(
	tokens: string[],
	apps: Array<ValidationTokenExpectation & { keyAfterRotation: KeyAfterRotation }>,
): Promise<ValidationTokenVerdict> {
	if (tokens.length === 0) return { valid: false, reason: 'the batch carries no validationTokens' };
	for (const [index, token] of tokens.entries()) {
		let first: ValidationTokenVerdict | undefined;
		for (const app of apps) {
			const verdict = await verifyToken(token, `validation token ${index + 1}`, app, app.keyAfterRotation);
			if (verdict.valid) {
				first = verdict;
				break;
			}
			first ??= verdict;
		}
		if (!first || !first.valid) return first ?? { valid: false, reason: 'no app to check the validationTokens against' };
	}
	return { valid: true };
}

async function verifyToken(
	token: string,
	label: string,
	expectation: ValidationTokenExpectation,
	keyAfterRotation: KeyAfterRotation,
): Promise<ValidationTokenVerdict> {
	const { tenant } = expectation;
	let decoded: jwt.Jwt | null;
	try {
		decoded = jwt.decode(token, { complete: true });
	} catch {
		// jsonwebtoken throws on a token whose header or payload is not JSON.
		decoded = null;
	}
	if (!decoded || typeof decoded.payload === 'string') return { valid: false, reason: `${label} is not a JWT` };
	if (decoded.header.alg !== 'RS256' || typeof decoded.header.kid !== 'string') {
		return { valid: false, reason: `${label} is not an RS256 token with a key ID` };
	}
	let key: KeyObject | 'unavailable' | undefined = tenant.keys.get(decoded.header.kid);
	if (!key) key = await keyAfterRotation(decoded.header.kid);
	if (key === 'unavailable') {
		return { valid: false, retryable: true, reason: `${label} is signed with a key that is not in memory, and the signing keys could not be refreshed from ${tenant.jwksUri}` };
	}
	if (!key) return { valid: false, reason: `${label} is signed with a key the identity platform does not publish` };
	let claims: jwt.JwtPayload;
	try {
		claims = jwt.verify(token, key, {
			algorithms: ['RS256'],
			audience: expectation.clientId,
			issuer: tenant.issuers as [string, ...string[]],
			clockTolerance: CLOCK_TOLERANCE_SECONDS,
		}) as jwt.JwtPayload;
	} catch (error) {
		return { valid: false, reason: `${label} failed verification: ${(error as Error).message}` };
	}
	if (claims.tid !== undefined && String(claims.tid).toLowerCase() !== tenant.tenantId) {
		return { valid: false, reason: `${label} names another tenant` };
	}
	const publisher = claims.azp ?? claims.appid;
	if (publisher !== GRAPH_CHANGE_NOTIFICATION_PUBLISHER) {
		return { valid: false, reason: `${label} was not issued to Microsoft Graph's notification publisher` };
	}
	return { valid: true };
}
