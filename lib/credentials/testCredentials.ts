import type { ICredentialDataDecryptedObject, INodeCredentialTestResult } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { requestFreshGraphToken } from '../auth/graphTokenProvider';
import { rolesOfAccessToken } from '../auth/tokenRoles';
import { checkValidityPeriod } from '../certificates/checkCertificateUsable';
import { readNotificationCertificate } from './notificationCertificate';

/** The permission the trigger cannot work without; earlier previews named it CallConversation.Read.All. */
const CALL_EVENTS_PERMISSIONS = ['CallEvents.Read.All', 'CallConversation.Read.All'];
const USER_READ_PERMISSION = 'User.Read.All';
const GRANT_HOW =
	'In Entra ID > App registrations > your app > API permissions, add it under Microsoft Graph > Application permissions, then Grant admin consent';

/** What the token's roles mean for the trigger, or why the test fails. */
function permissionsVerdict(tenantId: string, roles: string[] | undefined): INodeCredentialTestResult {
	const signedIn = `Signed in to tenant ${tenantId} and received a Microsoft Graph token`;
	if (roles === undefined) return { status: 'OK', message: `${signedIn} (its permissions could not be read)` };
	const has = (permission: string) => roles.some((role) => role.toLowerCase() === permission.toLowerCase());
	const granted = roles.length > 0 ? roles.join(', ') : 'none';
	const userRead = has(USER_READ_PERMISSION)
		? ''
		: ` ${USER_READ_PERMISSION} is not granted: it is needed only if you enter users by name (user principal name) instead of object ID.`;
	if (!CALL_EVENTS_PERMISSIONS.some(has)) {
		return {
			status: 'Error',
			message: `${signedIn}, but the app lacks the application permission ${CALL_EVENTS_PERMISSIONS[0]}, without which it cannot subscribe to anyone's calls (permissions granted: ${granted}). ${GRANT_HOW}.${userRead}`,
		};
	}
	return { status: 'OK', message: `${signedIn} with the permissions ${granted}.${userRead}` };
}

function failure(error: unknown): INodeCredentialTestResult {
	return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Really signs in, and reads the token's permissions: a credential that passes here will get tokens,
 * and may subscribe to calls, when the trigger activates.
 */
export async function testAppCredential(
	data: ICredentialDataDecryptedObject,
): Promise<INodeCredentialTestResult> {
	try {
		const credential = readAppCredential(data);
		const accessToken = await requestFreshGraphToken(credential);
		return permissionsVerdict(credential.tenantId, rolesOfAccessToken(accessToken));
	} catch (error) {
		return failure(error);
	}
}

export async function testNotificationCertificate(
	data: ICredentialDataDecryptedObject,
): Promise<INodeCredentialTestResult> {
	try {
		const certificate = readNotificationCertificate(data);
		checkValidityPeriod(certificate.validity, 'notification encryption');
		return {
			status: 'OK',
			message: `RSA ${certificate.keyBits}-bit certificate ${certificate.thumbprintSha1}, valid until ${certificate.validity.validTo.toISOString().slice(0, 10)}, ID "${certificate.certificateId}"`,
		};
	} catch (error) {
		return failure(error);
	}
}
