import type { IncomingMessage, ServerResponse } from 'http';
import { AccessTokenAuthority, ACCESS_TOKEN_LIFETIME_SECONDS } from './accessTokens';
import { checkClientAssertion, CLIENT_ASSERTION_TYPE } from './clientAssertion';
import type { Directory } from './directory';
import { EntraHttpError } from './errors';
import { readBody, sendJson } from './httpIo';
import type { RequestContext } from './hostHandler';

/**
 * Entra's v2 token endpoint for the client-credentials grant, with the checks (and AADSTS codes) in the
 * order a real tenant applies them: tenant, grant, client, credential, scope.
 */
export interface TokenEndpointDeps {
	directory: Directory;
	tokens: AccessTokenAuthority;
	loginBaseUrl: () => string;
	graphBaseUrl: () => string;
	/** Simulator clock: secret expiry. */
	now: () => number;
	/** Wall clock: assertion lifetimes (MSAL stamps them with the real time). */
	wallClock: () => number;
	countTokenRequest: (clientId: string) => void;
}

export async function handleTokenRequest(
	req: IncomingMessage,
	res: ServerResponse,
	ctx: RequestContext,
	tenant: string,
	deps: TokenEndpointDeps,
): Promise<void> {
	const raw = await readBody(req);
	const form = new URLSearchParams(raw);
	const clientId = form.get('client_id') ?? undefined;
	if (clientId) {
		ctx.clientId = clientId;
		deps.countTokenRequest(clientId);
	}

	if (!deps.directory.hasTenant(tenant)) {
		throw new EntraHttpError(
			400,
			'invalid_request',
			90002,
			`Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
		);
	}
	const contentType = req.headers['content-type'] ?? '';
	const grantType = form.get('grant_type');
	if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded') || !grantType) {
		throw new EntraHttpError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
	}
	if (grantType !== 'client_credentials') {
		throw new EntraHttpError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
	}
	if (!clientId) {
		throw new EntraHttpError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
	}
	const app = deps.directory.findApp(tenant, clientId);
	if (!app) {
		throw new EntraHttpError(
			400,
			'unauthorized_client',
			700016,
			`Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
		);
	}

	const secret = form.get('client_secret');
	const assertion = form.get('client_assertion');
	if (secret !== null) {
		const match = app.secrets.find((s) => s.value === secret);
		if (!match) {
			throw new EntraHttpError(
				401,
				'invalid_client',
				7000215,
				`Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
			);
		}
		if (match.expiresAt !== undefined && match.expiresAt <= deps.now()) {
			throw new EntraHttpError(
				401,
				'invalid_client',
				7000222,
				`The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
			);
		}
	} else if (assertion !== null) {
		const tokenEndpoint = `${deps.loginBaseUrl()}/${tenant}/oauth2/v2.0/token`;
		const failure =
			form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE
				? `Client assertion type must be '${CLIENT_ASSERTION_TYPE}'.`
				: checkClientAssertion(assertion, app, tokenEndpoint, deps.wallClock());
		if (failure) throw new EntraHttpError(401, 'invalid_client', 700027, failure);
	} else {
		throw new EntraHttpError(
			401,
			'invalid_client',
			7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
		);
	}

	const expectedScope = `${deps.graphBaseUrl()}/.default`;
	const scope = form.get('scope') ?? '';
	// MSAL appends OIDC scopes for some flows; Entra ignores them for client credentials.
	const resourceScopes = scope.split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
	if (resourceScopes.length !== 1 || resourceScopes[0] !== expectedScope) {
		throw new EntraHttpError(
			400,
			'invalid_scope',
			70011,
			`The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
		);
	}

	sendJson(
		res,
		200,
		{
			token_type: 'Bearer',
			expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
			ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
			access_token: deps.tokens.issue(app),
		},
		{ 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
	);
}
