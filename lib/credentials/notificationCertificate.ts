import { createHash } from 'node:crypto';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { BoundedCache } from '../boundedCache';
import { loadCertificateMaterial, type CertificateMaterial } from '../certificates/certificateMaterial';
import {
	checkRsaKeySize,
	rsaKeyBits,
	validityPeriodOf,
	type ValidityPeriod,
} from '../certificates/checkCertificateUsable';
import { CertificateInputError } from '../certificates/errors';
import { DecryptionKeyRing } from '../crypto/decryptionKeyRing';
import { fieldName, readCertificateInput } from './certificateInputFields';

export const MAX_CERTIFICATE_ID_LENGTH = 128;

/** What the trigger needs from the notification encryption certificate credential. */
export interface NotificationCertificate {
	/** Sent to Graph as encryptionCertificateId; Graph echoes it on each notification. */
	certificateId: string;
	/** Base64 DER public certificate, sent to Graph as encryptionCertificate. */
	encryptionCertificate: string;
	thumbprintSha1: string;
	/** Checked before the certificate is handed to Graph, not before decrypting. */
	validity: ValidityPeriod;
	keyBits: number;
	/** Keys of the current and, while rotating, the previous certificate. */
	keyRing: DecryptionKeyRing;
}

export function defaultCertificateId(material: CertificateMaterial): string {
	return `sha256-${material.thumbprintSha256.toLowerCase()}`;
}

function readCertificateId(
	data: ICredentialDataDecryptedObject,
	prefix: string,
	material: CertificateMaterial,
): string {
	const raw = data[fieldName(prefix, 'certificateId')];
	const id = typeof raw === 'string' ? raw.trim() : '';
	if (!id) return defaultCertificateId(material);
	if (id.length > MAX_CERTIFICATE_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id)) {
		throw new CertificateInputError(
			`The certificate ID must be 1 to ${MAX_CERTIFICATE_ID_LENGTH} printable characters without spaces; leave it empty to derive it from the thumbprint`,
		);
	}
	return id;
}

function buildNotificationCertificate(data: ICredentialDataDecryptedObject): NotificationCertificate {
	const current = loadCertificateMaterial(readCertificateInput(data));
	checkRsaKeySize(current, 'notification encryption');
	const certificateId = readCertificateId(data, '', current);
	const keys = [{ certificateId, privateKey: current.privateKey }];

	if (data.keepPrevious === true) {
		// The previous certificate only decrypts what is still in flight: its validity does not matter.
		const previous = loadCertificateMaterial(readCertificateInput(data, 'previous'));
		checkRsaKeySize(previous, 'previous notification encryption');
		const previousId = readCertificateId(data, 'previous', previous);
		if (previousId === certificateId) {
			throw new CertificateInputError(
				'The previous certificate has the same ID as the current one; give each certificate its own ID',
			);
		}
		keys.push({ certificateId: previousId, privateKey: previous.privateKey });
	}

	return {
		certificateId,
		encryptionCertificate: current.certificateDerBase64,
		thumbprintSha1: current.thumbprintSha1,
		validity: validityPeriodOf(current),
		keyBits: rsaKeyBits(current),
		keyRing: new DecryptionKeyRing(keys),
	};
}

/** Parsed once per credential content: webhook calls reuse the KeyObjects instead of re-reading PEM or PFX. */
const parsed = new BoundedCache<string, NotificationCertificate>(32);

export function readNotificationCertificate(data: ICredentialDataDecryptedObject): NotificationCertificate {
	const key = createHash('sha256').update(JSON.stringify(data)).digest('hex');
	return parsed.getOrCreate(key, () => buildNotificationCertificate(data));
}

/** What a process restart does to the parsed certificates; for tests. */
export function forgetParsedNotificationCertificates(): void {
	parsed.clear();
}
