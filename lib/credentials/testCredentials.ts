import type { ICredentialDataDecryptedObject, INodeCredentialTestResult } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { requestFreshGraphToken } from '../auth/graphTokenProvider';
import { checkValidityPeriod } from '../certificates/checkCertificateUsable';
import { readNotificationCertificate } from './notificationCertificate';

function failure(error: unknown): INodeCredentialTestResult {
	return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
}

/** Really signs in: a credential that passes here will get tokens when the trigger activates. */
export async function testAppCredential(
	data: ICredentialDataDecryptedObject,
): Promise<INodeCredentialTestResult> {
	try {
		const credential = readAppCredential(data);
		await requestFreshGraphToken(credential);
		return {
			status: 'OK',
			message: `Signed in to tenant ${credential.tenantId} and received a Microsoft Graph token`,
		};
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
