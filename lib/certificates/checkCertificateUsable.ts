import type { CertificateMaterial } from './certificateMaterial';
import { CertificateInputError } from './errors';

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;

/**
 * Graph encrypts with RSA keys of 2048 to 4096 bits and refuses an expired certificate; Entra ID
 * refuses client assertions from keys under 2048 bits. Checked up front so the user hears it from
 * the credential test, not from a failed activation.
 */
export function checkCertificateUsable(
	material: CertificateMaterial,
	purpose: string,
	now: Date = new Date(),
): void {
	const bits = material.privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
	if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
		throw new CertificateInputError(
			`The ${purpose} key is RSA ${bits} bits; it must be ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits. Generate a new one with: npx n8n-nodes-teams-calls generate-certificate`,
		);
	}
	const validFrom = new Date(material.certificate.validFrom);
	const validTo = new Date(material.certificate.validTo);
	if (now.getTime() > validTo.getTime()) {
		throw new CertificateInputError(
			`The ${purpose} certificate expired on ${validTo.toISOString()}. Generate or upload a new one`,
		);
	}
	if (now.getTime() < validFrom.getTime()) {
		throw new CertificateInputError(
			`The ${purpose} certificate is not valid before ${validFrom.toISOString()}. Check the clock, or use a certificate that is valid now`,
		);
	}
}
