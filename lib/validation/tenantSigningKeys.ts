import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

import { v1TokenIssuers, type CloudEndpoints } from '../clouds';

export type FetchJson = (url: string) => Promise<unknown>;

/** The tenant a credential names, in the cloud it names: what the OpenID configuration is fetched for. */
export interface TenantRef {
	tenantId: string;
	endpoints: CloudEndpoints;
}

/** What a validation token from this tenant must match, from the tenant's own OpenID configuration. */
export interface TenantKeys {
	/** The tenant's GUID, lower case: from the configuration's issuer, never from a notification. */
	tenantId: string;
	issuers: string[];
	jwksUri: string;
	keys: Map<string, KeyObject>;
	fetchedAt: number;
}

export type KeysLookup = { keys: TenantKeys } | { unavailable: string };

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const GUID_ONLY = new RegExp(`^${GUID.source}$`, 'i');
/** Microsoft rotates its signing keys about daily; older sets are refreshed, and kept if the refresh fails. */
export const KEYS_REFRESH_AGE_MS = 24 * 3_600_000;
/** Past this age keys are no longer trusted even when no refresh succeeds: Microsoft withdraws a compromised key at once. */
export const KEYS_MAX_STALE_MS = 7 * 24 * 3_600_000;
/** The login host is asked at most once per this interval, whatever the requests: forged ones cannot make us a proxy. */
export const KEYS_FETCH_COOLDOWN_MS = 30_000;
const STALE_WARNING_INTERVAL_MS = 10 * 60_000;

interface TenantEntry {
	current?: TenantKeys;
	lastAttemptAt: number;
	lastError?: string;
	inFlight?: Promise<TenantKeys>;
	lastStaleWarningAt: number;
}

/**
 * The identity platform's signing keys and issuers per login host and tenant, fetched from the tenant's
 * OpenID configuration (`{login}/{tenant}/v2.0/.well-known/openid-configuration`, then its jwks_uri) at
 * activation and kept in memory. Verification reads them synchronously; fetching is rate-limited.
 */
export class TenantSigningKeys {
	private readonly entries = new Map<string, TenantEntry>();

	constructor(private readonly now: () => number = () => Date.now()) {}

	/** Fetches now (activation): not rate-limited, because only the workflow's owner starts it. */
	prepare(tenant: TenantRef, fetchJson: FetchJson): Promise<TenantKeys> {
		return this.fetch(this.entryOf(tenant), tenant, fetchJson);
	}

	/**
	 * The keys to verify a batch with. In memory: at once, even when older than the refresh age (a refresh
	 * starts in the background, and a failed one leaves them in use with a warning) up to the stale limit.
	 * Not in memory: one fetch if the cooldown allows, waited for at most `waitMs`; otherwise why they are
	 * unavailable.
	 */
	async keysFor(tenant: TenantRef, fetchJson: FetchJson, waitMs: number, warn: (message: string) => void): Promise<KeysLookup> {
		const entry = this.entryOf(tenant);
		const { current } = entry;
		if (current && this.now() - current.fetchedAt < KEYS_MAX_STALE_MS) {
			if (this.now() - current.fetchedAt >= KEYS_REFRESH_AGE_MS) this.refreshStale(entry, tenant, fetchJson, warn);
			return { keys: current };
		}
		if (!entry.inFlight && !this.mayFetch(entry)) {
			return { unavailable: `the last attempt to fetch them failed ${this.secondsSince(entry.lastAttemptAt)} s ago: ${entry.lastError ?? 'unknown error'}` };
		}
		const outcome = await this.waitFor(entry.inFlight ?? this.fetch(entry, tenant, fetchJson), waitMs);
		return 'keys' in outcome ? outcome : { unavailable: outcome.unavailable };
	}

	/**
	 * A key ID the set does not hold: Microsoft may have rotated its keys, so refetch (cooldown permitting)
	 * and look again. 'unavailable' when the keys cannot be known now (the refetch failed or timed out).
	 */
	async keyAfterRotation(tenant: TenantRef, kid: string, fetchJson: FetchJson, waitMs: number): Promise<KeyObject | 'unavailable' | undefined> {
		const entry = this.entryOf(tenant);
		if (!entry.inFlight && !this.mayFetch(entry)) return entry.lastError ? 'unavailable' : undefined;
		const outcome = await this.waitFor(entry.inFlight ?? this.fetch(entry, tenant, fetchJson), waitMs);
		return 'keys' in outcome ? outcome.keys.keys.get(kid) : 'unavailable';
	}

	forget(): void {
		this.entries.clear();
	}

	private refreshStale(entry: TenantEntry, tenant: TenantRef, fetchJson: FetchJson, warn: (message: string) => void): void {
		const ageHours = Math.round((this.now() - entry.current!.fetchedAt) / 360_000) / 10;
		const warnStale = (reason: string) => {
			if (this.now() - entry.lastStaleWarningAt < STALE_WARNING_INTERVAL_MS) return;
			entry.lastStaleWarningAt = this.now();
			warn(`Verifying Microsoft Graph notifications with signing keys fetched ${ageHours} h ago, because refreshing them failed (check that n8n can reach ${tenant.endpoints.loginOrigin}): ${reason}`);
		};
		if (entry.inFlight) return;
		if (!this.mayFetch(entry)) {
			if (entry.lastError) warnStale(entry.lastError);
			return;
		}
		this.fetch(entry, tenant, fetchJson).catch((error: Error) => warnStale(error.message));
	}

	private mayFetch(entry: TenantEntry): boolean {
		return this.now() - entry.lastAttemptAt >= KEYS_FETCH_COOLDOWN_MS;
	}

	private entryOf(tenant: TenantRef): TenantEntry {
		const key = `${tenant.endpoints.loginOrigin}|${tenant.tenantId.toLowerCase()}`;
		let entry = this.entries.get(key);
		if (!entry) {
			entry = { lastAttemptAt: -Infinity, lastStaleWarningAt: -Infinity };
			this.entries.set(key, entry);
		}
		return entry;
	}

	private fetch(entry: TenantEntry, tenant: TenantRef, fetchJson: FetchJson): Promise<TenantKeys> {
		if (entry.inFlight) return entry.inFlight;
		entry.lastAttemptAt = this.now();
		const request = fetchTenantKeys(tenant, fetchJson, this.now)
			.then(
				(keys) => {
					entry.current = keys;
					entry.lastError = undefined;
					return keys;
				},
				(error: unknown) => {
					entry.lastError = error instanceof Error ? error.message : String(error);
					throw error;
				},
			)
			.finally(() => {
				entry.inFlight = undefined;
			});
		entry.inFlight = request;
		return request;
	}

	private async waitFor(request: Promise<TenantKeys>, waitMs: number): Promise<{ keys: TenantKeys } | { unavailable: string }> {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<{ unavailable: string }>((resolve) => {
			timer = setTimeout(() => resolve({ unavailable: `the login host did not answer within ${waitMs} ms` }), waitMs);
		});
		try {
			return await Promise.race([
				request.then(
					(keys) => ({ keys }),
					(error: Error) => ({ unavailable: error.message }),
				),
				timeout,
			]);
		} finally {
			clearTimeout(timer);
		}
	}

	private secondsSince(at: number): number {
		return Math.round((this.now() - at) / 1000);
	}
}

/** The tenant's v2 OpenID configuration, then the key set it points to. */
async function fetchTenantKeys(tenant: TenantRef, fetchJson: FetchJson, now: () => number): Promise<TenantKeys> {
	const configurationUrl = `${tenant.endpoints.loginOrigin}/${encodeURIComponent(tenant.tenantId)}/v2.0/.well-known/openid-configuration`;
	let configuration: { issuer?: unknown; jwks_uri?: unknown };
	try {
		configuration = ((await fetchJson(configurationUrl)) ?? {}) as typeof configuration;
	} catch (error) {
		throw new Error(`the OpenID configuration ${configurationUrl} could not be fetched: ${(error as Error).message}`, { cause: error });
	}
	const { issuer, jwks_uri: jwksUri } = configuration;
	if (typeof issuer !== 'string' || typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) {
		throw new Error(`the OpenID configuration ${configurationUrl} has no issuer or no https jwks_uri`);
	}
	// A tenant's own configuration names its GUID in the issuer; only /common's has a {tenantid} placeholder,
	// which a credential that names its tenant by GUID can fill in.
	const named = GUID_ONLY.test(tenant.tenantId) ? tenant.tenantId.toLowerCase() : undefined;
	const v2Issuer = named ? issuer.replace('{tenantid}', named) : issuer;
	const tenantId = GUID.exec(v2Issuer)?.[0]?.toLowerCase();
	if (!tenantId) throw new Error(`the OpenID configuration ${configurationUrl} names no tenant ID in its issuer "${issuer}"`);
	if (named && named !== tenantId) {
		throw new Error(`the OpenID configuration ${configurationUrl} is for tenant ${tenantId}, not ${tenant.tenantId}`);
	}
	let keySet: unknown;
	try {
		keySet = await fetchJson(jwksUri);
	} catch (error) {
		throw new Error(`the signing keys ${jwksUri} could not be fetched: ${(error as Error).message}`, { cause: error });
	}
	return {
		tenantId,
		issuers: [v2Issuer, ...v1TokenIssuers(tenant.endpoints, tenantId)],
		jwksUri,
		keys: parseKeySet(keySet, jwksUri),
		fetchedAt: now(),
	};
}

function parseKeySet(body: unknown, jwksUri: string): Map<string, KeyObject> {
	const keys = new Map<string, KeyObject>();
	const entries = (body as { keys?: unknown })?.keys;
	if (!Array.isArray(entries)) throw new Error(`the signing key set ${jwksUri} has no "keys" array`);
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
