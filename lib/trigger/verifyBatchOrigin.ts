import type { IWebhookFunctions } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import type { SubscriptionApp } from '../subscriptions/subscriptionState';
import { retryFetch } from '../validation/retryFetch';
import { SigningKeyCache } from '../validation/signingKeyCache';
import { verifyValidationTokens, type ValidationTokenVerdict } from '../validation/verifyValidationTokens';
import { APP_CREDENTIAL } from './credentialNames';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JWKS_TIMEOUT_MS = 5000;

/** Shared by every trigger in the process: the identity platform's keys are the same for all. */
const signingKeys = new SigningKeyCache();

/**
 * Proves a batch came from Microsoft Graph for our app: its validationTokens must verify. Lifecycle-only
 * batches may come without tokens (Graph sends them for rich notifications only); if present, they are
 * checked too.
 */
export async function verifyBatchOrigin(
	context: IWebhookFunctions,
	tokens: string[],
	accepted: AuthenticatedItem[],
	app: SubscriptionApp | undefined,
): Promise<ValidationTokenVerdict> {
	const lifecycleOnly = accepted.every(({ item }) => typeof item.lifecycleEvent === 'string');
	if (lifecycleOnly && tokens.length === 0) return { valid: true };
	// The app the subscriptions were made for, saved at activation; reading the credential instead
	// costs n8n an expression sandbox per request.
	const credential = app ?? readAppCredential(await context.getCredentials(APP_CREDENTIAL));
	// Tokens carry the tenant's GUID; a credential may name its tenant by domain instead.
	const tenantIds = GUID.test(credential.tenantId)
		? [credential.tenantId.toLowerCase()]
		: [...new Set(accepted.map(({ item }) => item.tenantId).filter((id): id is string => typeof id === 'string'))];
	return verifyValidationTokens(
		tokens,
		{ clientId: credential.clientId, tenantIds, endpoints: credential.endpoints },
		signingKeys,
		retryFetch((url) => context.helpers.httpRequest({ method: 'GET', url, json: true, timeout: JWKS_TIMEOUT_MS })),
	);
}
