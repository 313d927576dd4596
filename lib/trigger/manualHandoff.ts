import type { ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';

/**
 * trigger() in a manual execution. n8n-core runs the node's execute() ahead of its trigger(), so a "Listen for
 * test event" run gets its items from execute() (executeDeliveries), in whichever process runs it; an n8n that
 * called trigger() instead would wait for an emit, so this emits nothing rather than leave the run hanging.
 */
export function manualHandoff(context: ITriggerFunctions): ITriggerResponse {
	return {
		manualTriggerFunction: async () => {
			context.emit([[]]);
		},
	};
}
