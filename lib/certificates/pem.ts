/** PEM handling shared by the certificate readers: tolerant of how people paste keys into a form. */

/**
 * Pasted PEM often arrives with literal "\n" sequences (from JSON or env files), Windows line endings
 * or surrounding whitespace; OpenSSL needs real newlines.
 */
export function normalisePem(text: string): string {
	return text.replace(/\\n/g, '\n').replace(/\r\n?/g, '\n').trim() + '\n';
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits a bundle into its certificate blocks (leaf and chain), leaving parsing to X509Certificate. */
export function splitCertificatePems(text: string): string[] {
	return (normalisePem(text).match(CERTIFICATE_BLOCK) ?? []).map((block) => block + '\n');
}

export function derToCertificatePem(der: Buffer): string {
	const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
	return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
