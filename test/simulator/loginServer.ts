import type { ServerResponse } from 'http';
import type { AccessTokenAuthority } from './accessTokens';
import type { Directory } from './directory';
import { EntraHttpError, entraError } from './errors';
import { defaultEntraError, type FaultInjector } from './faults';
import { createHostHandler, type RequestContext } from './hostHandler';
import { BodyTooLargeError, sendJson } from './httpIo';
import type { RequestLog } from './requestLog';
import type { Jwk } from './signingKeys';
import { handleTokenRequest, type TokenEndpointDeps } from './tokenEndpoint';

/**
 * The login host (stand-in for login.microsoftonline.com): token endpoint, OIDC metadata, instance
 * discovery and JWKS. The trigger reads the OpenID configuration and JWKS to verify validation tokens;
 * MSAL is given its metadata, so tests can prove it never calls discovery.
 */
export interface LoginServerDeps extends TokenEndpointDeps {
	directory: Directory;
	tokens: AccessTokenAuthority;
	log: RequestLog;
	faults: FaultInjector;
	jwks: () => { keys: Jwk[] };
}

const MULTI_TENANT = ['common', 'organizations'];

/**
 * A tenant's v2 OpenID configuration as Entra serves it: for a tenant (named by GUID or by one of its
 * domains) every URL and the issuer carry the tenant's GUID; for /common and /organizations the endpoints
 * keep that segment and the issuer has a `{tenantid}` placeholder. Also the metadata MSAL takes for a
 * custom authority (its `authorityMetadata` option).
 */
export function openIdConfiguration(loginBaseUrl: string, tenant: string, tenantId: string = tenant) {
	const multiTenant = MULTI_TENANT.includes(tenant.toLowerCase());
	const authority = `${loginBaseUrl}/${multiTenant ? tenant : tenantId}`;
	return {
		token_endpoint: `${authority}/oauth2/v2.0/token`,
		token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
		jwks_uri: `${authority}/discovery/v2.0/keys`,
		response_modes_supported: ['query', 'fragment', 'form_post'],
		subject_types_supported: ['pairwise'],
		id_token_signing_alg_values_supported: ['RS256'],
		response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
		scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
		issuer: `${loginBaseUrl}/${multiTenant ? '{tenantid}' : tenantId}/v2.0`,
		authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
		device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
		end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
		tenant_region_scope: multiTenant ? null : 'EU',
		cloud_instance_name: 'simulator.localhost',
	};
}

export function createLoginHandler(deps: LoginServerDeps) {
	return createHostHandler({
		kind: 'login',
		log: deps.log,
		faults: deps.faults,
		route: async (req, res, ctx) => {
			try {
				await route(req, res, ctx, deps);
			} catch (error) {
				if (error instanceof EntraHttpError) {
					sendJson(res, error.status, entraError(error.error, error.aadsts, error.message, correlationOf(req.headers)));
				} else if (error instanceof BodyTooLargeError) {
					sendJson(res, 413, entraError('invalid_request', undefined, error.message));
				} else {
					throw error;
				}
			}
		},
		renderFault: (res, fault) => {
			const headers: Record<string, string> = {};
			if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
			const body = entraError(fault.code ?? defaultEntraError(fault.status), fault.aadsts, fault.message ?? 'Injected fault.');
			sendJson(res, fault.status, body, headers);
		},
		renderCrash: (res, error) => {
			sendJson(res, 500, entraError('server_error', undefined, `Simulator error: ${String(error)}`));
		},
	});
}

async function route(
	req: Parameters<Parameters<typeof createHostHandler>[0]['route']>[0],
	res: ServerResponse,
	ctx: RequestContext,
	deps: LoginServerDeps,
): Promise<void> {
	const segments = ctx.path.split('/').filter(Boolean);
	const [tenant, ...rest] = segments;
	const tail = rest.join('/');
	const base = deps.loginBaseUrl();

	if (ctx.method === 'POST' && tenant && tail === 'oauth2/v2.0/token') {
		await handleTokenRequest(req, res, ctx, tenant, deps);
		return;
	}
	if (ctx.method === 'GET' && tenant && tail === 'v2.0/.well-known/openid-configuration') {
		sendJson(res, 200, openIdConfiguration(base, tenant, knownTenant(tenant, deps)));
		return;
	}
	if (ctx.method === 'GET' && tenant === 'common' && tail === 'discovery/instance') {
		const host = new URL(base).host;
		sendJson(res, 200, {
			tenant_discovery_endpoint: `${base}/{tenantid}/v2.0/.well-known/openid-configuration`,
			'api-version': '1.1',
			metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
		});
		return;
	}
	if (ctx.method === 'GET' && tenant && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys')) {
		knownTenant(tenant, deps);
		sendJson(res, 200, deps.jwks());
		return;
	}
	sendJson(res, 404, entraError('not_found', undefined, `No login endpoint at ${ctx.method} ${ctx.path}.`));
}

/** The tenant's GUID (or the multi-tenant segment as given); Entra's 400 for a tenant it does not know. */
function knownTenant(tenant: string, deps: LoginServerDeps): string {
	if (MULTI_TENANT.includes(tenant.toLowerCase())) return tenant;
	const tenantId = deps.directory.resolveTenant(tenant);
	if (!tenantId) throw new EntraHttpError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
	return tenantId;
}

function correlationOf(headers: Record<string, string | string[] | undefined>): string | undefined {
	const value = headers['client-request-id'];
	return typeof value === 'string' ? value : undefined;
}
