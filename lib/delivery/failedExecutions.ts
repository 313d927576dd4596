import type { NodeOperationError } from 'n8n-workflow';

/**
 * A way for an execution to have the trigger record a failed execution (n8n's `saveFailedExecution`) for a
 * part of its work that failed while the rest goes on; n8n's `emitError` would deactivate the workflow.
 * Only where the trigger is active in this process: a queue-mode worker runs executions without it.
 */
export class FailedExecutions {
	private save?: (error: NodeOperationError) => void;

	/** Called by the trigger when it starts; the function returned detaches it when it closes. */
	attach(save: (error: NodeOperationError) => void): () => void {
		this.save = save;
		return () => {
			if (this.save === save) this.save = undefined;
		};
	}

	/** Whether the trigger recorded `error` as a failed execution. */
	record(error: NodeOperationError): boolean {
		if (!this.save) return false;
		this.save(error);
		return true;
	}
}
