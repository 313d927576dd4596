import type { INodeExecutionData, ITriggerFunctions, ITriggerResponse, IWebhookFunctions } from 'n8n-workflow';

/**
 * In "listen for test event", n8n runs webhook() and then calls trigger() in manual mode, waiting for
 * an emit. webhook() leaves its items here and trigger() hands them over (same process only).
 */
const stash = new Map<string, INodeExecutionData[]>();

function keyOf(context: IWebhookFunctions | ITriggerFunctions): string {
	return `${context.getWorkflow().id ?? ''}:${context.getNode().name}`;
}

export function stashTestItems(context: IWebhookFunctions, items: INodeExecutionData[]): void {
	stash.set(keyOf(context), items);
}

export function manualHandoff(context: ITriggerFunctions): ITriggerResponse {
	return {
		manualTriggerFunction: async () => {
			const key = keyOf(context);
			const items = stash.get(key) ?? [];
			stash.delete(key);
			context.emit([items]);
		},
	};
}
