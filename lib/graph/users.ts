import { GraphApiError } from './graphApiError';
import type { GraphClient } from './graphClient';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UserLookupError extends Error {
	override name = 'UserLookupError';
}

/**
 * Subscriptions need the user's object ID; people know each other by UPN. An ID is used as given (no
 * need for User.Read.All), a UPN is looked up once at activation.
 */
export async function resolveUserId(graph: GraphClient, idOrUpn: string): Promise<string> {
	const value = idOrUpn.trim();
	if (GUID.test(value)) return value.toLowerCase();
	if (!value.includes('@')) {
		throw new UserLookupError(
			`"${value}" is neither an Entra object ID (a GUID) nor a user principal name (name@domain)`,
		);
	}
	try {
		const user = await graph.request<{ id?: string }>('GET', `users/${encodeURIComponent(value)}?$select=id`);
		if (!user.id) throw new UserLookupError(`Microsoft Graph returned no ID for user ${value}`);
		return user.id.toLowerCase();
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
