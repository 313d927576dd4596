import type { ICredentialDataDecryptedObject, INodeCredentialTestResult } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { requestFreshGraphToken } from '../auth/graphTokenProvider';
import { rolesOfAccessToken } from '../auth/tokenRoles';
import { checkValidityPeriod } from '../certificates/checkCertificateUsable';
import { CALL_EVENTS_PERMISSION, CALL_RECORDS_PERMISSION, MEETING_CALL_EVENTS_PERMISSION } from '../subscriptions/callSources';
import { readNotificationCertificate } from './notificationCertificate';

/** Each source and the application permissions that allow it (any one of them). */
const SOURCES = [
	// Earlier previews named the permission CallConversation.Read.All.
	{ name: 'Call Events (Preview)', permissions: [CALL_EVENTS_PERMISSION, 'CallConversation.Read.All'] },
	{ name: 'Call Records', permissions: [CALL_RECORDS_PERMISSION] },
	{ name: 'Meeting Call Events (Beta)', permissions: [MEETING_CALL_EVENTS_PERMISSION, 'OnlineMeetings.ReadWrite.All'] },
];
/** A token cannot show it: the meetings' source also needs the Teams application access policy. */
const ACCESS_POLICY_NOTE =
	' Meeting Call Events (Beta) also need an application access policy for the app (New-CsApplicationAccessPolicy, Grant-CsApplicationAccessPolicy), which this test cannot see.';
const USER_READ_PERMISSION = 'User.Read.All';
const GRANT_HOW =
	'In Entra ID > App registrations > your app > API permissions, add it under Microsoft Graph > Application permissions, then Grant admin consent';

/** What the token's roles mean for each source of the trigger, or why the test fails. */
function permissionsVerdict(tenantId: string, roles: string[] | undefined): INodeCredentialTestResult {
	const signedIn = `Signed in to tenant ${tenantId} and received a Microsoft Graph token`;
	if (roles === undefined) return { status: 'OK', message: `${signedIn} (its permissions could not be read)` };
	const has = (permission: string) => roles.some((role) => role.toLowerCase() === permission.toLowerCase());
	const granted = roles.length > 0 ? roles.join(', ') : 'none';
	const userRead = has(USER_READ_PERMISSION)
		? ''
		: ` ${USER_READ_PERMISSION} is not granted: it is needed only if you enter users by name (user principal name) instead of object ID.`;
	const allowed = SOURCES.filter((source) => source.permissions.some(has));
	const missing = SOURCES.filter((source) => !allowed.includes(source));
	const needs = (sources: typeof SOURCES) => sources.map((source) => `${source.name} needs ${source.permissions[0]}`).join('; ');
	if (allowed.length === 0) {
		return {
			status: 'Error',
			message: `${signedIn}, but the app lacks the application permission of every source of this trigger (${needs(SOURCES)}), so it cannot subscribe to anyone's calls (permissions granted: ${granted}). ${GRANT_HOW}.${userRead}`,
		};
	}
	const notAllowed = missing.length > 0 ? ` Not allowed: ${needs(missing)}.` : '';
	const policy = allowed.some((source) => source.permissions.includes(MEETING_CALL_EVENTS_PERMISSION)) ? ACCESS_POLICY_NOTE : '';
	return {
		status: 'OK',
		message: `${signedIn} with the permissions ${granted}. Sources it allows: ${allowed.map((source) => source.name).join(', ')}.${notAllowed}${policy}${userRead}`,
	};
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
