/**
 * Raised for certificate or key input that cannot be used. Messages tell the user what to change and
 * never quote the key, the PFX or a password.
 */
export class CertificateInputError extends Error {
	override name = 'CertificateInputError';
}
