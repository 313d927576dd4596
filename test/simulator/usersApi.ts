import type { AccessTokenClaims } from './accessTokens';
import type { Directory } from './directory';
import { GraphHttpError } from './errors';
import type { ApiResult } from './subscriptionsApi';

/** GET /users/{id | userPrincipalName}: what the node uses to resolve a UPN to the object id a resource needs. */
const USER_READ_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

/** Graph returns only the properties `$select` names (and a default set without it). */
export function getUser(
	idOrUpn: string,
	select: string | null,
	caller: AccessTokenClaims,
	version: string,
	directory: Directory,
	graphBaseUrl: string,
): ApiResult {
	if (!USER_READ_ROLES.some((r) => caller.roles.includes(r))) {
		throw new GraphHttpError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
	}
	const user = directory.findUser(idOrUpn);
	if (!user) {
		throw new GraphHttpError(
			404,
			'Request_ResourceNotFound',
			`Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
		);
	}
	const properties: Record<string, string> = { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName };
	const selected = select === null ? Object.keys(properties) : select.split(',').map((name) => name.trim());
	const body: Record<string, unknown> = { '@odata.context': `${graphBaseUrl}/${version}/$metadata#users/$entity` };
	for (const name of selected) if (name in properties) body[name] = properties[name];
	return { status: 200, body };
}
