import { sleep, type IHookFunctions, type ITriggerFunctions, type IWebhookFunctions } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { readNotificationCertificate } from '../credentials/notificationCertificate';
import { GraphClient } from '../graph/graphClient';
import type { SubscriptionDeps } from '../subscriptions/subscriptionDeps';
import { APP_CREDENTIAL, NOTIFICATION_CERTIFICATE_CREDENTIAL } from './credentialNames';

type SubscriptionContext = IHookFunctions | IWebhookFunctions | ITriggerFunctions;

/** Wires subscription work to the n8n context it runs in: its credentials, HTTP helper and logger. */
export async function subscriptionDepsFor(
	context: SubscriptionContext,
	apiVersion: string,
): Promise<SubscriptionDeps> {
	const credential = readAppCredential(await context.getCredentials(APP_CREDENTIAL));
	return {
		graph: new GraphClient(context.helpers.httpRequest.bind(context.helpers), credential, {
			apiVersion,
			sleep,
		}),
		certificate: async () =>
			readNotificationCertificate(await context.getCredentials(NOTIFICATION_CERTIFICATE_CREDENTIAL)),
		now: () => new Date(),
		logger: context.logger,
	};
}
