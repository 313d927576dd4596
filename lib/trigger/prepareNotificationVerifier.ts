import type { IHookFunctions } from 'n8n-workflow';

import type { SubscriptionApp } from '../subscriptions/subscriptionState';
import { readTriggerParameters } from './triggerParameters';
import { fetchNotificationSigningKeys } from './verifyBatchOrigin';

/**
 * At activation: fetches the tenant's OpenID configuration and signing keys, so that every batch can be
 * verified before it is answered. Never throws: without keys the trigger still activates, and batches are
 * answered 503 (Graph delivers them again) until the keys can be fetched.
 */
export async function prepareNotificationVerifier(context: IHookFunctions, app: SubscriptionApp): Promise<void> {
	try {
		if (readTriggerParameters(context).skipValidationTokenCheck) return;
		await fetchNotificationSigningKeys(context, app);
	} catch (error) {
		context.logger.warn(
			`While activating workflow ${context.getWorkflow().id ?? ''}: could not fetch the Microsoft identity platform's signing keys for tenant ${app.tenantId} (check that n8n can reach ${app.endpoints.loginOrigin}); notification batches are answered 503, so that Graph delivers them again, until they can be fetched: ${(error as Error).message}`,
		);
	}
}
