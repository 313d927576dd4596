import { createHash, X509Certificate } from 'crypto';
import { newGuid } from './ids';

/**
 * The simulated Entra directory: tenants, app registrations (with their secrets, certificates and
 * granted Graph application roles) and users. Both hosts read it; tests write it.
 */
export interface AppSecretInput {
	value: string;
	/** Date, epoch ms or ISO string; compared with the simulator clock. */
	expiresAt?: Date | number | string;
}

export interface AppRegistrationInput {
	tenantId: string;
	clientId: string;
	secrets?: AppSecretInput[];
	/** PEM certificates whose private keys may sign client assertions. */
	certificates?: string[];
	/** Granted Graph application roles, e.g. 'CallEvents.Read.All', 'User.Read.All'. */
	permissions?: string[];
}

export interface AppCertificate {
	pem: string;
	x509: X509Certificate;
	/** base64url SHA-1 of the DER: the `x5t` an RS256 assertion carries. */
	x5t: string;
	/** base64url SHA-256 of the DER: the `x5t#S256` a PS256 assertion carries. */
	x5tS256: string;
}

export interface AppRegistration {
	tenantId: string;
	clientId: string;
	/** Object id of the app's service principal: Graph's `creatorId` for app-only subscriptions. */
	servicePrincipalId: string;
	secrets: { value: string; expiresAt?: number }[];
	certificates: AppCertificate[];
	permissions: string[];
}

export interface DirectoryUser {
	id: string;
	userPrincipalName: string;
	displayName: string;
}

export class Directory {
	private readonly tenants = new Set<string>();
	/** Verified domain names (contoso.onmicrosoft.com) → tenant id: Entra accepts either in the authority. */
	private readonly domains = new Map<string, string>();
	private readonly apps = new Map<string, AppRegistration>();
	private readonly users = new Map<string, DirectoryUser>();

	registerTenant(tenantId: string, domains: string[] = []): void {
		this.tenants.add(tenantId.toLowerCase());
		for (const domain of domains) this.domains.set(domain.toLowerCase(), tenantId.toLowerCase());
	}

	/** The tenant id for a tenant id or one of its domains; undefined when unknown. */
	resolveTenant(idOrDomain: string): string | undefined {
		const key = idOrDomain.toLowerCase();
		return this.tenants.has(key) ? key : this.domains.get(key);
	}

	hasTenant(idOrDomain: string): boolean {
		return this.resolveTenant(idOrDomain) !== undefined;
	}

	registerApp(input: AppRegistrationInput): AppRegistration {
		this.registerTenant(input.tenantId);
		const app: AppRegistration = {
			tenantId: input.tenantId.toLowerCase(),
			clientId: input.clientId,
			servicePrincipalId: newGuid(),
			secrets: (input.secrets ?? []).map((s) => ({ value: s.value, expiresAt: toEpoch(s.expiresAt) })),
			certificates: (input.certificates ?? []).map(toAppCertificate),
			permissions: [...(input.permissions ?? [])],
		};
		this.apps.set(appKey(app.tenantId, app.clientId), app);
		return app;
	}

	/** Replace an app's granted roles, e.g. to revoke consent mid-test. */
	setPermissions(tenantId: string, clientId: string, permissions: string[]): void {
		const app = this.findApp(tenantId, clientId);
		if (!app) throw new Error(`No app ${clientId} in tenant ${tenantId}`);
		app.permissions = [...permissions];
	}

	findApp(tenantIdOrDomain: string, clientId: string): AppRegistration | undefined {
		const tenantId = this.resolveTenant(tenantIdOrDomain) ?? tenantIdOrDomain.toLowerCase();
		return this.apps.get(appKey(tenantId, clientId));
	}

	addUser(user: DirectoryUser): DirectoryUser {
		const stored = { ...user };
		this.users.set(user.id.toLowerCase(), stored);
		return stored;
	}

	/** A user deleted from the tenant (or whose licence was removed): Graph no longer finds them. */
	removeUser(idOrUpn: string): void {
		const user = this.findUser(idOrUpn);
		if (user) this.users.delete(user.id.toLowerCase());
	}

	/** By object id or (case-insensitively) by UPN, as Graph's /users/{id | userPrincipalName} does. */
	findUser(idOrUpn: string): DirectoryUser | undefined {
		const key = idOrUpn.toLowerCase();
		const byId = this.users.get(key);
		if (byId) return byId;
		for (const user of this.users.values()) {
			if (user.userPrincipalName.toLowerCase() === key) return user;
		}
		return undefined;
	}
}

function appKey(tenantId: string, clientId: string): string {
	return `${tenantId}|${clientId.toLowerCase()}`;
}

function toEpoch(value: Date | number | string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
	if (Number.isNaN(ms)) throw new Error(`Invalid secret expiry: ${String(value)}`);
	return ms;
}

function toAppCertificate(pem: string): AppCertificate {
	const x509 = new X509Certificate(pem);
	return {
		pem,
		x509,
		x5t: createHash('sha1').update(x509.raw).digest('base64url'),
		x5tS256: createHash('sha256').update(x509.raw).digest('base64url'),
	};
}
