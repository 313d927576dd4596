import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export type FetchJson = (url: string) => Promise<unknown>;

interface KeySet {
	keys: Map<string, KeyObject>;
	fetchedAt: number;
}

const MAX_AGE_MS = 24 * 3_600_000;
/** An unknown key ID triggers at most one refresh per this interval: forged kids cannot make us a proxy. */
const REFRESH_COOLDOWN_MS = 30_000;

/**
 * Microsoft identity platform signing keys, by key set URL and key ID, parsed once. Keys rotate, so an
 * unknown key ID refreshes the set, but no more often than the cooldown allows.
 */
export class SigningKeyCache {
	private readonly sets = new Map<string, KeySet>();
	private readonly lastFetchAttempt = new Map<string, number>();
	private readonly pending = new Map<string, Promise<KeySet>>();

	constructor(private readonly now: () => number = () => Date.now()) {}

	async keyFor(jwksUrl: string, kid: string, fetchJson: FetchJson): Promise<KeyObject | undefined> {
		const cached = this.sets.get(jwksUrl);
		const fresh = cached && this.now() - cached.fetchedAt < MAX_AGE_MS;
		if (fresh && cached.keys.has(kid)) return cached.keys.get(kid);
		const lastAttempt = this.lastFetchAttempt.get(jwksUrl) ?? -Infinity;
		if (fresh && this.now() - lastAttempt < REFRESH_COOLDOWN_MS) return undefined;
		const set = await this.refresh(jwksUrl, fetchJson);
		return set.keys.get(kid);
	}

	private refresh(jwksUrl: string, fetchJson: FetchJson): Promise<KeySet> {
		const inFlight = this.pending.get(jwksUrl);
		if (inFlight) return inFlight;
		this.lastFetchAttempt.set(jwksUrl, this.now());
		const request = fetchJson(jwksUrl)
			.then((body) => {
				const set = { keys: parseKeySet(body), fetchedAt: this.now() };
				this.sets.set(jwksUrl, set);
				return set;
			})
			.finally(() => this.pending.delete(jwksUrl));
		this.pending.set(jwksUrl, request);
		return request;
	}
}

function parseKeySet(body: unknown): Map<string, KeyObject> {
	const keys = new Map<string, KeyObject>();
	const entries = (body as { keys?: unknown })?.keys;
	if (!Array.isArray(entries)) throw new Error('the signing key set has no "keys" array');
	for (const jwk of entries as Array<JsonWebKey & { kid?: string; use?: string }>) {
		if (jwk?.kty !== 'RSA' || typeof jwk.kid !== 'string' || (jwk.use && jwk.use !== 'sig')) continue;
		try {
			keys.set(jwk.kid, createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }));
		} catch {
			// One malformed key must not hide the others.
		}
	}
	return keys;
}
