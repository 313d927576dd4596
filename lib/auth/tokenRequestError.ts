import { AuthError } from '@azure/msal-node';

import { CertificateInputError } from '../certificates/errors';
import type { AppCredential } from './appCredential';

/** A failed token request, with a message that says what to fix in the credential or in Entra ID. */
export class TokenRequestError extends Error {
	override name = 'TokenRequestError';

	constructor(
		message: string,
		/** Entra ID's AADSTS number when there was one, else MSAL's error code. */
		readonly code: string,
		readonly retryable: boolean,
	) {
		super(message);
	}
}

function entraErrorNumber(error: AuthError): string | undefined {
	const fromField = (error as AuthError & { errorNo?: string | number }).errorNo;
	if (fromField !== undefined && String(fromField) !== '') return String(fromField);
	return /AADSTS(\d+)/.exec(error.errorMessage ?? '')?.[1];
}

function cloudLabel(credential: AppCredential): string {
	const labels: Record<string, string> = {
		global: 'Global',
		usGovL4: 'US Government L4 (GCC High)',
		usGovL5: 'US Government L5 (DoD)',
		china: 'China (21Vianet)',
		custom: `custom (${credential.endpoints.loginOrigin})`,
	};
	return labels[credential.endpoints.cloud];
}

function messageForEntraError(code: string, credential: AppCredential): string | undefined {
	const app = `application ${credential.clientId}`;
	switch (code) {
		case '7000215':
			return 'The client secret is wrong. In Entra ID > App registrations > Certificates & secrets, copy the secret\'s Value (shown only when it is created), not its Secret ID';
		case '7000222':
			return 'The client secret has expired. Create a new client secret in Entra ID > App registrations > Certificates & secrets and paste its Value here';
		case '700016':
			return `The ${app} was not found in tenant ${credential.tenantId}. Check the Client ID and the Tenant ID, and that the app is registered or consented in that tenant`;
		case '700027':
			return 'Entra ID rejected the client certificate. Upload this certificate (its public part) to the app registration under Certificates & secrets, and use the private key that belongs to it';
		case '700030':
			return 'Entra ID rejected the certificate subject. Turn off "Send Certificate Chain" unless the app is set up for subject name and issuer authentication';
		case '90002':
			return `Tenant ${credential.tenantId} was not found in the ${cloudLabel(credential)} cloud. Check the Tenant ID, and pick the cloud the tenant lives in (GCC High, DoD and China tenants have their own)`;
		case '90038':
			return `Tenant ${credential.tenantId} belongs to another national cloud than ${cloudLabel(credential)}. Change the Cloud setting to the tenant's cloud`;
		case '70011':
			return `Entra ID refused the scope ${credential.endpoints.graphOrigin}/.default. Check the Cloud setting or the custom Graph Base URL`;
		case '7000112':
			return `The ${app} is disabled in tenant ${credential.tenantId}. Enable it in Entra ID > Enterprise applications`;
		default:
			return undefined;
	}
}

function causeText(error: unknown): string {
	if (!(error instanceof Error)) return String(error);
	const cause = (error as Error & { cause?: unknown }).cause;
	const causeMessage = cause instanceof Error ? `: ${cause.message}` : '';
	return `${error.message}${causeMessage}`;
}

/**
 * Turns what MSAL (or the network) threw into a TokenRequestError. Branches on Entra's numeric
 * AADSTS code, which Microsoft documents as stable, rather than on its wording, which is not.
 */
export function describeTokenError(error: unknown, credential: AppCredential): TokenRequestError {
	if (error instanceof TokenRequestError) return error;
	if (error instanceof CertificateInputError) {
		return new TokenRequestError(`Client certificate: ${error.message}`, 'certificate_input', false);
	}
	if (error instanceof AuthError) {
		const entraCode = entraErrorNumber(error);
		const known = entraCode ? messageForEntraError(entraCode, credential) : undefined;
		if (entraCode && known) return new TokenRequestError(`${known} (AADSTS${entraCode})`, `AADSTS${entraCode}`, false);
		if (entraCode) {
			const firstLine = (error.errorMessage ?? '').split(/\r?\n/)[0];
			return new TokenRequestError(
				`Entra ID refused the token request: ${firstLine || error.errorCode} (AADSTS${entraCode})`,
				`AADSTS${entraCode}`,
				false,
			);
		}
		if (error.errorCode === 'network_error' || error.errorCode === 'endpoints_resolution_error') {
			return unreachable(error, credential);
		}
		return new TokenRequestError(
			`The token request failed: ${error.errorCode}${error.errorMessage ? ` - ${error.errorMessage}` : ''}`,
			error.errorCode,
			false,
		);
	}
	return unreachable(error, credential);
}

function unreachable(error: unknown, credential: AppCredential): TokenRequestError {
	return new TokenRequestError(
		`Could not reach the login host ${credential.endpoints.loginOrigin} (${causeText(error)}). Check the Cloud setting (and a custom Login Host), the network or proxy between n8n and that host, and that n8n trusts its TLS certificate (NODE_EXTRA_CA_CERTS for a private CA)`,
		'network_error',
		true,
	);
}
