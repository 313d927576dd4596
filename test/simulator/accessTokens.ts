import { decodeJwt, signJwt, verifyJwtSignature } from './jwt';
import { newGuid } from './ids';
import type { AppRegistration } from './directory';
import type { SigningKey } from './signingKeys';

/**
 * App-only access tokens, shaped like Entra v1 tokens for Graph (aud, iss, tid, appid, oid, roles, idtyp).
 * Token lifetimes run on the wall clock, not the simulator's `now`: MSAL caches tokens by the real clock,
 * so moving simulated time (to expire subscriptions) must not silently invalidate cached tokens.
 */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3599;

export interface AccessTokenClaims {
	aud: string;
	iss: string;
	tid: string;
	appid: string;
	oid: string;
	/** Absent from an issued token when the app has no permission; verify() reads that as []. */
	roles: string[];
	iat: number;
	nbf: number;
	exp: number;
	[claim: string]: unknown;
}

export class AccessTokenAuthority {
	/** Token ids (uti) per client, so revoke() can invalidate exactly the tokens issued so far. */
	private readonly issued = new Map<string, Set<string>>();
	private readonly revoked = new Set<string>();

	constructor(
		private readonly key: SigningKey,
		private graphBaseUrl: string,
		private readonly wallClock: () => number,
	) {}

	/** The Graph URL is only known once its listener is up. */
	setAudience(graphBaseUrl: string): void {
		this.graphBaseUrl = graphBaseUrl;
	}

	issue(app: AppRegistration): string {
		const nowSec = Math.floor(this.wallClock() / 1000);
		const claims: AccessTokenClaims = {
			aud: this.graphBaseUrl,
			iss: `https://sts.windows.net/${app.tenantId}/`,
			iat: nowSec,
			nbf: nowSec,
			exp: nowSec + ACCESS_TOKEN_LIFETIME_SECONDS,
			appid: app.clientId,
			appidacr: '1',
			idp: `https://sts.windows.net/${app.tenantId}/`,
			idtyp: 'app',
			oid: app.servicePrincipalId,
			sub: app.servicePrincipalId,
			roles: [...app.permissions],
			tid: app.tenantId,
			uti: newGuid().replace(/-/g, ''),
			ver: '1.0',
		};
		// Entra ID leaves the roles claim out when the app has no application permission with consent.
		if (app.permissions.length === 0) delete (claims as Partial<AccessTokenClaims>).roles;
		const ids = this.issued.get(app.clientId) ?? new Set<string>();
		ids.add(claims.uti as string);
		this.issued.set(app.clientId, ids);
		return signJwt({ typ: 'JWT', kid: this.key.kid, x5t: this.key.kid }, claims, this.key.privateKey, 'RS256');
	}

	/** Returns the claims of a valid token, or a reason string for the 401 message. */
	verify(token: string): AccessTokenClaims | string {
		const jwt = decodeJwt(token);
		if (!jwt) return 'IDX14100: JWT is not well formed, there are no dots (.).';
		if (jwt.header.kid !== this.key.kid || !verifyJwtSignature(jwt, this.key.publicKey)) {
			return 'Signature validation failed.';
		}
		const claims = { ...jwt.payload, roles: jwt.payload.roles ?? [] } as AccessTokenClaims;
		if (claims.aud !== this.graphBaseUrl) return 'Invalid audience.';
		const nowSec = Math.floor(this.wallClock() / 1000);
		if (typeof claims.exp !== 'number' || claims.exp <= nowSec) return 'Lifetime validation failed, the token is expired.';
		if (this.revoked.has(String(claims.uti))) return 'Lifetime validation failed, the token is expired.';
		return claims;
	}

	/** Makes every token issued so far to this client invalid (later ones stay good), to test 401 recovery. */
	revoke(clientId: string): void {
		for (const id of this.issued.get(clientId) ?? []) this.revoked.add(id);
	}
}
