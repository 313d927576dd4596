import type { IWebhookDescription } from 'n8n-workflow';
import * as n8nWorkflow from 'n8n-workflow';

/**
 * How n8n answers a notification whose execution webhook() started without answering itself: 202 with no
 * body, sent only once the execution is started (in queue mode: its job is in Redis). n8n 2.41 reads the
 * status natively through a resolver, so no expression is evaluated per request; an n8n without
 * resolvers evaluates the template.
 */
const responseCode =
	typeof n8nWorkflow.webhookDescriptionFields === 'function' && typeof n8nWorkflow.fromFunction === 'function'
		? n8nWorkflow.webhookDescriptionFields({ responseCode: n8nWorkflow.fromFunction(() => 202) })
		: { responseCode: '={{202}}' };

export const DEFERRED_ANSWER: Partial<IWebhookDescription> = { ...responseCode, responseData: 'noData' };
