/** PEM handling shared by the certificate readers: tolerant of how people paste keys into a form. */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Pasted PEM often arrives on one line, with literal "\n" sequences (from JSON or env files), with
 * Windows line endings or stray spaces; OpenSSL wants 64-column base64 between the markers. Blocks
 * with RFC 1421 headers (legacy encrypted keys) keep their layout apart from line endings.
 */
export function normalisePem(text: string): string {
	const cleaned = text.replace(/\\n/g, '\n').replace(/\r/g, '');
	const blocks: string[] = [];
	for (const match of cleaned.matchAll(PEM_BLOCK)) {
		const [, label, body] = match;
		if (body.includes(':')) {
			blocks.push(`-----BEGIN ${label}-----\n${body.trim()}\n-----END ${label}-----\n`);
			continue;
		}
		const base64 = body.replace(/\s+/g, '');
		const lines = base64.match(/.{1,64}/g) ?? [];
		blocks.push(`-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`);
	}
	return blocks.length > 0 ? blocks.join('') : cleaned.trim() + '\n';
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
