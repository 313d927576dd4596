import { GraphApiError } from './graphApiError';
import type { GraphClient } from './graphClient';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UserLookupError extends Error {
	override name = 'UserLookupError';
}

/** A watched user as activation found them; the names are absent when the app may not read users. */
export interface ResolvedUser {
	id: string;
	userPrincipalName?: string;
	displayName?: string;
}

const USER_FIELDS = '$select=id,userPrincipalName,displayName';

/**
 * Subscriptions need the user's object ID; people know each other by UPN. A UPN is looked up once at
 * activation and must resolve. An ID needs no lookup (nor User.Read.All): its names are read when the
 * app may, so that items can say who called, and left out otherwise.
 */
export async function resolveUser(graph: GraphClient, idOrUpn: string): Promise<ResolvedUser> {
	const value = idOrUpn.trim();
	if (GUID.test(value)) {
		const id = value.toLowerCase();
		const named = await readUser(graph, id).catch(() => undefined);
		return named?.id?.toLowerCase() === id ? withNames(id, named) : { id };
	}
	if (!value.includes('@')) {
		throw new UserLookupError(
			`"${value}" is neither an Entra object ID (a GUID) nor a user principal name (name@domain)`,
		);
	}
	try {
		const user = await readUser(graph, value);
		if (!user.id) throw new UserLookupError(`Microsoft Graph returned no ID for user ${value}`);
		return withNames(user.id.toLowerCase(), user);
	} catch (error) {
		if (error instanceof GraphApiError && error.status === 404) {
			throw new UserLookupError(
				`User ${value} was not found in the tenant. Check the spelling of the user principal name, or enter the user's object ID${error.requestIds ? ` (${error.requestIds})` : ''}`,
			);
		}
		if (error instanceof GraphApiError && error.status === 403) {
			throw new UserLookupError(
				`The app may not read users, so ${value} cannot be looked up. Grant the application permission User.Read.All with admin consent, or enter the user's object ID instead of the UPN${error.requestIds ? ` (${error.requestIds})` : ''}`,
			);
		}
		throw error;
	}
}

interface GraphUser {
	id?: string;
	userPrincipalName?: unknown;
	displayName?: unknown;
}

function readUser(graph: GraphClient, idOrUpn: string): Promise<GraphUser> {
	return graph.request<GraphUser>('GET', `users/${encodeURIComponent(idOrUpn)}?${USER_FIELDS}`);
}

function withNames(id: string, user: GraphUser): ResolvedUser {
	const resolved: ResolvedUser = { id };
	if (typeof user.userPrincipalName === 'string' && user.userPrincipalName) resolved.userPrincipalName = user.userPrincipalName;
	if (typeof user.displayName === 'string' && user.displayName) resolved.displayName = user.displayName;
	return resolved;
}
