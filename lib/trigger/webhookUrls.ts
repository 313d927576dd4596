import { NodeOperationError, type IHookFunctions } from 'n8n-workflow';

import type { WebhookUrls } from '../subscriptions/subscriptionDeps';

/** The two URLs Graph is given: notifications go to "default", lifecycle events to "setup". */
export function webhookUrlsOf(context: IHookFunctions): WebhookUrls {
	const notificationUrl = context.getNodeWebhookUrl('default') ?? '';
	const lifecycleUrl = context.getNodeWebhookUrl('setup') ?? '';
	for (const url of [notificationUrl, lifecycleUrl]) {
		if (!url.startsWith('https://')) {
			throw new NodeOperationError(
				context.getNode(),
				`Microsoft Graph only delivers to HTTPS URLs, and this trigger's URL is ${url || '(none)'}`,
				{
					description:
						'Set N8N_WEBHOOK_URL (or WEBHOOK_URL, its older name that many hosting guides still use) to the public https:// address under which n8n is reachable (for example through a reverse proxy or tunnel) and restart n8n.',
				},
			);
		}
	}
	return { notificationUrl, lifecycleUrl };
}
