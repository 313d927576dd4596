import type { Configuration } from '@azure/msal-node';

import type { CertificateMaterial } from '../certificates/certificateMaterial';
import type { AppCredential } from './appCredential';
import { HttpsNetworkClient } from './httpsNetworkClient';

export const TOKEN_REQUEST_TIMEOUT_MS = 20_000;

export function authorityUrl(credential: AppCredential): string {
	return `${credential.endpoints.loginOrigin}/${credential.tenantId}`;
}

export function graphScope(credential: AppCredential): string {
	return `${credential.endpoints.graphOrigin}/.default`;
}

/**
 * MSAL only knows the public and national clouds. For a custom login host it must be told the host is
 * trusted and given the endpoints outright; otherwise it asks login.microsoftonline.com about the host
 * (instance discovery), which leaks the host name and fails on private networks.
 */
function customAuthorityOptions(credential: AppCredential): Partial<Configuration['auth']> {
	const authority = authorityUrl(credential);
	const host = new URL(credential.endpoints.loginOrigin).host;
	return {
		knownAuthorities: [host],
		authorityMetadata: JSON.stringify({
			token_endpoint: `${authority}/oauth2/v2.0/token`,
			authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
			end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
			issuer: `${authority}/v2.0`,
			jwks_uri: `${authority}/discovery/v2.0/keys`,
		}),
		cloudDiscoveryMetadata: JSON.stringify({
			tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
			'api-version': '1.1',
			metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
		}),
	};
}

export function buildMsalConfiguration(
	credential: AppCredential,
	certificate?: CertificateMaterial,
): Configuration {
	const auth: Configuration['auth'] = {
		clientId: credential.clientId,
		authority: authorityUrl(credential),
		...(credential.endpoints.isCustom ? customAuthorityOptions(credential) : {}),
	};
	if (credential.auth.type === 'clientSecret') {
		auth.clientSecret = credential.auth.clientSecret;
	} else {
		if (!certificate) throw new Error('Certificate material is required for certificate authentication');
		auth.clientCertificate = {
			thumbprintSha256: certificate.thumbprintSha256,
			privateKey: certificate.privateKeyPkcs8Pem,
			...(credential.auth.sendCertificateChain ? { x5c: certificate.chainPems.join('') } : {}),
		};
	}
	return {
		auth,
		system: {
			networkClient: new HttpsNetworkClient(TOKEN_REQUEST_TIMEOUT_MS),
			// MSAL's own log lines could carry request details; our errors carry what the user needs.
			loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
		},
	};
}
