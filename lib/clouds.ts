/**
 * National clouds: where to sign in and where Graph lives. The one place that knows these hosts.
 * Sources: Microsoft Graph national cloud deployments; MSAL's built-in authority metadata.
 */
export type CloudName = 'global' | 'usGovL4' | 'usGovL5' | 'china' | 'custom';

export interface CloudEndpoints {
	cloud: CloudName;
	/** Origin of the Entra ID (login) host, without a trailing slash. */
	loginOrigin: string;
	/** Base URL of Microsoft Graph, before the version segment, without a trailing slash. */
	graphOrigin: string;
	/** MSAL knows the public clouds; a custom host must be declared and described to it. */
	isCustom: boolean;
}

export const CLOUD_ENDPOINTS: Readonly<Record<Exclude<CloudName, 'custom'>, CloudEndpoints>> = {
	global: {
		cloud: 'global',
		loginOrigin: 'https://login.microsoftonline.com',
		graphOrigin: 'https://graph.microsoft.com',
		isCustom: false,
	},
	usGovL4: {
		cloud: 'usGovL4',
		loginOrigin: 'https://login.microsoftonline.us',
		graphOrigin: 'https://graph.microsoft.us',
		isCustom: false,
	},
	usGovL5: {
		cloud: 'usGovL5',
		loginOrigin: 'https://login.microsoftonline.us',
		graphOrigin: 'https://dod-graph.microsoft.us',
		isCustom: false,
	},
	china: {
		cloud: 'china',
		loginOrigin: 'https://login.chinacloudapi.cn',
		graphOrigin: 'https://microsoftgraph.chinacloudapi.cn',
		isCustom: false,
	},
};

export class CloudConfigurationError extends Error {
	override name = 'CloudConfigurationError';
}

function toHttpsBase(value: string, fieldLabel: string, allowPath: boolean): string {
	let url: URL;
	try {
		url = new URL(value.trim());
	} catch {
		throw new CloudConfigurationError(
			`${fieldLabel} "${value}" is not a URL. Enter it like https://login.example.com`,
		);
	}
	if (url.protocol !== 'https:') {
		throw new CloudConfigurationError(
			`${fieldLabel} must use https:// (Microsoft identity and Graph endpoints are HTTPS only)`,
		);
	}
	const path = url.pathname.replace(/\/+$/, '');
	if (path && !allowPath) {
		throw new CloudConfigurationError(
			`${fieldLabel} must be a host only, without a path (got "${url.pathname}")`,
		);
	}
	return url.origin + path;
}

export function resolveCloudEndpoints(
	cloud: CloudName,
	custom?: { loginHost?: string; graphBaseUrl?: string },
): CloudEndpoints {
	if (cloud !== 'custom') {
		const known = CLOUD_ENDPOINTS[cloud];
		if (!known) throw new CloudConfigurationError(`Unknown cloud "${String(cloud)}"`);
		return known;
	}
	if (!custom?.loginHost || !custom.graphBaseUrl) {
		throw new CloudConfigurationError(
			'The Custom cloud needs both a Login Host and a Graph Base URL',
		);
	}
	return {
		cloud: 'custom',
		loginOrigin: toHttpsBase(custom.loginHost, 'Login Host', false),
		graphOrigin: toHttpsBase(custom.graphBaseUrl, 'Graph Base URL', true),
		isCustom: true,
	};
}

/**
 * The v1 issuers (`iss` of a token whose `ver` is 1.0) of a tenant in this cloud: the security token
 * service host of the v1 OpenID configuration. Graph's validation tokens are v1 tokens today; the v2
 * issuer comes from the tenant's v2 OpenID configuration instead (see lib/validation/tenantSigningKeys.ts).
 * US Government tokens name the cloud's login host; a custom cloud may use either form.
 */
export function v1TokenIssuers(endpoints: CloudEndpoints, tenantId: string): string[] {
	switch (endpoints.cloud) {
		case 'china':
			return [`https://sts.chinacloudapi.cn/${tenantId}/`];
		case 'usGovL4':
		case 'usGovL5':
			return [`${endpoints.loginOrigin}/${tenantId}/`, `https://sts.windows.net/${tenantId}/`];
		case 'custom':
			return [`https://sts.windows.net/${tenantId}/`, `${endpoints.loginOrigin}/${tenantId}/`];
		default:
			return [`https://sts.windows.net/${tenantId}/`];
	}
}
