import type {
	IExecuteFunctions,
	INodeExecutionData,
	ITriggerFunctions,
	ITriggerResponse,
	IWebhookFunctions,
} from 'n8n-workflow';

/**
 * "Listen for test event": webhook() returns the items, and n8n puts them in the manual execution as
 * this node's input. n8n-core runs a node's execute() ahead of its trigger(), so execute() hands them
 * on, in whichever process runs the execution: the main, or a queue-mode worker when manual runs are
 * offloaded (always, from n8n 3). The copy kept here serves an n8n that calls trigger() in manual mode
 * instead, in the process that received the test event.
 */
const stash = new Map<string, INodeExecutionData[]>();

function keyOf(context: IWebhookFunctions | ITriggerFunctions | IExecuteFunctions): string {
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

/** The items webhook() returned, as n8n passes them in: for every execution mode alike. */
export function passOnWebhookItems(context: IExecuteFunctions): INodeExecutionData[][] {
	stash.delete(keyOf(context));
	return [context.getInputData()];
}

/** What a process restart (or another process) does to this module; for tests. */
export function forgetTestItems(): void {
	stash.clear();
}
