import jwt from 'jsonwebtoken';

/**
 * The application permissions an app-only access token grants: its `roles` claim, which Entra ID
 * leaves out when the app has none with admin consent. undefined when the token is not a JWT we can
 * read (then nothing can be said about its permissions). Only decoded, never verified: the token came
 * straight from the login host over TLS, and it is read to advise, not to authorise.
 */
export function rolesOfAccessToken(accessToken: string): string[] | undefined {
	let payload: ReturnType<typeof jwt.decode>;
	try {
		payload = jwt.decode(accessToken, { json: true });
	} catch {
		return undefined;
	}
	if (!payload) return undefined;
	const roles = (payload as { roles?: unknown }).roles;
	if (roles === undefined) return [];
	return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : undefined;
}
