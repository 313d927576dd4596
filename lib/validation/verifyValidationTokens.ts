import jwt from 'jsonwebtoken';

import { validationTokenIssuers, type CloudEndpoints } from '../clouds';
import type { FetchJson, SigningKeyCache } from './signingKeyCache';

/** The application Microsoft Graph uses to sign change notifications (Graph's documentation). */
export const GRAPH_CHANGE_NOTIFICATION_PUBLISHER = '0bf30f3b-4a52-48df-9a82-234910c4a086';
const CLOCK_TOLERANCE_SECONDS = 300;

export interface ValidationTokenExpectation {
	clientId: string;
	/** Tenants the tokens may come from (GUIDs). */
	tenantIds: string[];
	endpoints: CloudEndpoints;
}

export type ValidationTokenVerdict = { valid: true } | { valid: false; reason: string };

/**
 * Graph signs each rich-notification batch with one JWT per app and tenant. Every token must be signed
 * by the Microsoft identity platform, be current, be addressed to our app, and come from Graph's
 * notification publisher; at least one must be ours.
 */
export async function verifyValidationTokens(
	tokens: string[],
	expectation: ValidationTokenExpectation,
	keys: SigningKeyCache,
	fetchJson: FetchJson,
): Promise<ValidationTokenVerdict> {
	if (tokens.length === 0) return { valid: false, reason: 'the batch carries no validationTokens' };
	const jwksUrl = `${expectation.endpoints.loginOrigin}/common/discovery/v2.0/keys`;
	const issuers = expectation.tenantIds.flatMap((tenantId) => validationTokenIssuers(expectation.endpoints, tenantId));
	for (const [index, token] of tokens.entries()) {
		const label = `validation token ${index + 1}`;
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
		let key;
		try {
			key = await keys.keyFor(jwksUrl, decoded.header.kid, fetchJson);
		} catch (error) {
			return { valid: false, reason: `the signing keys could not be fetched from ${jwksUrl} (check that n8n can reach it): ${(error as Error).message}` };
		}
		if (!key) return { valid: false, reason: `${label} is signed with a key the identity platform does not publish` };
		let claims: jwt.JwtPayload;
		try {
			claims = jwt.verify(token, key, {
				algorithms: ['RS256'],
				audience: expectation.clientId,
				issuer: issuers as [string, ...string[]],
				clockTolerance: CLOCK_TOLERANCE_SECONDS,
			}) as jwt.JwtPayload;
		} catch (error) {
			return { valid: false, reason: `${label} failed verification: ${(error as Error).message}` };
		}
		const publisher = claims.azp ?? claims.appid;
		if (publisher !== GRAPH_CHANGE_NOTIFICATION_PUBLISHER) {
			return { valid: false, reason: `${label} was not issued to Microsoft Graph's notification publisher` };
		}
	}
	return { valid: true };
}
