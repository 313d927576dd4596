import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import {
	generateSelfSignedCertificate,
	RSA_KEY_SIZES,
	type RsaKeySize,
} from '../certificates/generateSelfSignedCertificate';

export interface CliOutput {
	out: (line: string) => void;
	err: (line: string) => void;
}

export const GENERATE_CERTIFICATE_USAGE = `Usage: n8n-nodes-teams-calls generate-certificate --out <dir> [options]

Creates a self-signed RSA certificate for Microsoft Graph notification encryption and for app
authentication (Entra ID client certificate).

Options:
  --out <dir>          Folder to write certificate.pem, private-key.pem and certificate.pfx (required)
  --key-size <bits>    ${RSA_KEY_SIZES.join(', ')} (default 2048)
  --subject <dn>       Subject, e.g. "CN=n8n Teams calls, O=Contoso" (default "CN=n8n Teams call notifications")
  --days <n>           Validity in days, 1 to 3650 (default 365)
  --password <text>    Password for certificate.pfx (default: none)
  --force              Overwrite existing files
  --help               Show this text`;

const FILES = {
	certificate: 'certificate.pem',
	privateKey: 'private-key.pem',
	pfx: 'certificate.pfx',
};

class UsageError extends Error {}

function parseKeySize(value: string | undefined): RsaKeySize {
	if (value === undefined) return 2048;
	const bits = Number(value);
	if (!RSA_KEY_SIZES.includes(bits as RsaKeySize)) {
		throw new UsageError(`--key-size must be one of ${RSA_KEY_SIZES.join(', ')}`);
	}
	return bits as RsaKeySize;
}

function parseDays(value: string | undefined): number {
	if (value === undefined) return 365;
	const days = Number(value);
	if (!Number.isInteger(days) || days < 1 || days > 3650) {
		throw new UsageError('--days must be a whole number from 1 to 3650');
	}
	return days;
}

export function generateCertificateCommand(argv: string[], io: CliOutput): number {
	let values: ReturnType<typeof parse>['values'];
	try {
		values = parse(argv).values;
	} catch (error) {
		io.err(`${(error as Error).message}\n\n${GENERATE_CERTIFICATE_USAGE}`);
		return 2;
	}
	if (values.help) {
		io.out(GENERATE_CERTIFICATE_USAGE);
		return 0;
	}
	try {
		if (!values.out) throw new UsageError('--out <dir> is required');
		const keySize = parseKeySize(values['key-size']);
		const validityDays = parseDays(values.days);
		const outDir = path.resolve(values.out);
		const targets = Object.values(FILES).map((file) => path.join(outDir, file));
		const existing = targets.filter((file) => existsSync(file));
		if (existing.length > 0 && !values.force) {
			throw new UsageError(`Not overwriting ${existing.join(', ')}; pass --force to replace them`);
		}

		const generated = generateSelfSignedCertificate({
			keySize,
			validityDays,
			subject: values.subject,
			pfxPassword: values.password,
		});
		mkdirSync(outDir, { recursive: true });
		writeFileSync(path.join(outDir, FILES.certificate), generated.certificatePem);
		// Private material is readable by the owner only.
		writeFileSync(path.join(outDir, FILES.privateKey), generated.privateKeyPem, { mode: 0o600 });
		writeFileSync(path.join(outDir, FILES.pfx), generated.pfx, { mode: 0o600 });

		io.out(
			[
				`Wrote ${path.join(outDir, FILES.certificate)}, ${FILES.privateKey} and ${FILES.pfx} (RSA ${keySize}, valid until ${generated.notAfter.toISOString()})`,
				`SHA-1 thumbprint:   ${generated.thumbprintSha1}`,
				`SHA-256 thumbprint: ${generated.thumbprintSha256}`,
				'Base64 certificate (DER):',
				generated.certificateDerBase64,
				'',
				'Next: paste certificate.pem and private-key.pem into the n8n credential "Microsoft Graph Notification Encryption Certificate API".',
				'To also sign in with it, upload certificate.pem to the app registration under Certificates & secrets.',
			].join('\n'),
		);
		return 0;
	} catch (error) {
		io.err(`Error: ${(error as Error).message}`);
		return error instanceof UsageError ? 2 : 1;
	}
}

function parse(argv: string[]) {
	return parseArgs({
		args: argv,
		strict: true,
		allowPositionals: false,
		options: {
			out: { type: 'string' },
			'key-size': { type: 'string' },
			subject: { type: 'string' },
			days: { type: 'string' },
			password: { type: 'string' },
			force: { type: 'boolean' },
			help: { type: 'boolean' },
		},
	});
}
