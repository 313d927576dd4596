import type { AccessTokenClaims } from './accessTokens';
import type { Directory } from './directory';
import { GraphHttpError } from './errors';
import type { ApiResult } from './subscriptionsApi';

/** GET /users/{id | userPrincipalName}: what the node uses to resolve a UPN to the object id a resource needs. */
const USER_READ_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

export function getUser(idOrUpn: string, caller: AccessTokenClaims, version: string, directory: Directory, graphBaseUrl: string): ApiResult {
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
	return {
		status: 200,
		body: {
			'@odata.context': `${graphBaseUrl}/${version}/$metadata#users/$entity`,
			id: user.id,
			userPrincipalName: user.userPrincipalName,
			displayName: user.displayName,
		},
	};
}
