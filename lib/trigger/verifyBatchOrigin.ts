import type { IHookFunctions, IWebhookFunctions } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import { MAX_VALIDATION_TOKENS } from '../notifications/notificationBatch';
import type { SubscriptionApp } from '../subscriptions/subscriptionState';
import { TenantSigningKeys, type FetchJson } from '../validation/tenantSigningKeys';
import { verifyValidationTokensForApps, type ValidationTokenVerdict } from '../validation/verifyValidationTokens';
import { APP_CREDENTIAL } from './credentialNames';

/** Activation has time; a request has Graph's 3 s, of which the keys may take about one. */
const FETCH_TIMEOUT_MS = 5000;
export const KEYS_WAIT_BEFORE_ANSWER_MS = 1000;

/** Shared by every trigger in the process, keyed by login host and tenant. */
const notificationSigningKeys = new TenantSigningKeys();

/** What a process restart does to the keys in memory; for tests. */
export function forgetNotificationSigningKeys(): void {
	notificationSigningKeys.forget();
}

function fetchJsonFor(context: IHookFunctions | IWebhookFunctions): FetchJson {
	return (url) => context.helpers.httpRequest({ method: 'GET', url, json: true, timeout: FETCH_TIMEOUT_MS });
}

/** Activation: the tenant's OpenID configuration and signing keys into memory. Throws; see prepareNotificationVerifier. */
export async function fetchNotificationSigningKeys(context: IHookFunctions, app: SubscriptionApp): Promise<void> {
	await notificationSigningKeys.prepare(app, fetchJsonFor(context));
}

/**
 * Proves a batch came from Microsoft Graph for our app, before it is answered: its validationTokens must
 * verify against the keys in memory. Lifecycle-only batches may come without tokens (Graph sends them for
 * rich notifications only); if present, they are checked too. A verdict that is `retryable` means the keys
 * could not be had in time: the batch should be answered so that Graph delivers it again. `apps`: the apps the
 * accepted notifications' subscriptions belong to (two while a switch of app registration is under way).
 */
export async function verifyBatchOrigin(
	context: IWebhookFunctions,
	tokens: string[],
	accepted: AuthenticatedItem[],
	apps: SubscriptionApp[],
): Promise<ValidationTokenVerdict> {
	const lifecycleOnly = accepted.every(({ item }) => typeof item.lifecycleEvent === 'string');
	if (lifecycleOnly && tokens.length === 0) return { valid: true };
	if (tokens.length > MAX_VALIDATION_TOKENS) return { valid: false, reason: `the batch carries more than ${MAX_VALIDATION_TOKENS} validationTokens` };
	// The app the subscriptions were made for, saved at activation; reading the credential instead
	// costs n8n an expression sandbox per request.
	const credentials = apps.length > 0 ? apps : [readAppCredential(await context.getCredentials(APP_CREDENTIAL))];
	const fetchJson = fetchJsonFor(context);
	const expectations = [];
	for (const credential of credentials) {
		const lookup = await notificationSigningKeys.keysFor(credential, fetchJson, KEYS_WAIT_BEFORE_ANSWER_MS, (message) =>
			context.logger.warn(message),
		);
		if ('unavailable' in lookup) {
			return {
				valid: false,
				retryable: true,
				reason: `the signing keys of tenant ${credential.tenantId} are not in memory and could not be fetched from ${credential.endpoints.loginOrigin} (check that n8n can reach it): ${lookup.unavailable}`,
			};
		}
		// The tenant's GUID comes from its OpenID configuration, never from the notification.
		expectations.push({
			clientId: credential.clientId,
			tenant: lookup.keys,
			keyAfterRotation: (kid: string) => notificationSigningKeys.keyAfterRotation(credential, kid, fetchJson, KEYS_WAIT_BEFORE_ANSWER_MS),
		});
	}
	return verifyValidationTokensForApps(tokens, expectations);
}
