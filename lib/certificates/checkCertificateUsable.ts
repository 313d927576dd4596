import type { CertificateMaterial } from './certificateMaterial';
import { CertificateInputError } from './errors';

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;

export interface ValidityPeriod {
	validFrom: Date;
	validTo: Date;
}

export function validityPeriodOf(material: CertificateMaterial): ValidityPeriod {
	return {
		validFrom: new Date(material.certificate.validFrom),
		validTo: new Date(material.certificate.validTo),
	};
}

export function rsaKeyBits(material: CertificateMaterial): number {
	return material.privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
}

/** Graph encrypts with RSA keys of 2048 to 4096 bits; Entra ID refuses assertions from smaller keys. */
export function checkRsaKeySize(material: CertificateMaterial, purpose: string): void {
	const bits = rsaKeyBits(material);
	if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
		throw new CertificateInputError(
			`The ${purpose} key is RSA ${bits} bits; it must be ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits. Generate a new one with: npx n8n-nodes-teams-calls generate-certificate`,
		);
	}
}

/**
 * Graph and Entra ID refuse a certificate outside its validity period. Checked when a certificate is
 * about to be handed to them (and by the credential test), not when decrypting: a notification sealed
 * before the certificate expired must still open.
 */
export function checkValidityPeriod(period: ValidityPeriod, purpose: string, now: Date = new Date()): void {
	if (now.getTime() > period.validTo.getTime()) {
		throw new CertificateInputError(
			`The ${purpose} certificate expired on ${period.validTo.toISOString()}. Generate or upload a new one`,
		);
	}
	if (now.getTime() < period.validFrom.getTime()) {
		throw new CertificateInputError(
			`The ${purpose} certificate is not valid before ${period.validFrom.toISOString()}. Check the clock, or use a certificate that is valid now`,
		);
	}
}
