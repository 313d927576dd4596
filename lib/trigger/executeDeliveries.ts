import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { deliveryOf, type Delivery } from '../delivery/admittedDelivery';
import { triggerRuntimeFor } from '../delivery/triggerRuntime';
import { deliverySourceFor } from '../sources';
import { readTriggerParameters } from './triggerParameters';

/**
 * The second phase, in the execution n8n has already stored (on a worker in queue mode): n8n-core runs a
 * node's execute() ahead of its trigger() and webhook pass-through, with what webhook() or the sweep's emit
 * handed over as input. Deliveries become the source's items; any other item (a lifecycle event's missed
 * item) is passed on as it came. In every execution mode alike, manual runs included.
 */
export async function executeDeliveries(context: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const input = context.getInputData();
	const deliveries: Delivery[] = [];
	const passedOn: INodeExecutionData[] = [];
	for (const item of input) {
		const delivery = deliveryOf(item.json);
		if (delivery) deliveries.push(delivery);
		else passedOn.push(item);
	}
	if (deliveries.length === 0) return [input];
	const parameters = readTriggerParameters(context);
	const items = await deliverySourceFor(parameters.source).work(context, deliveries, parameters, triggerRuntimeFor(context));
	return [[...items.map((json) => ({ json })), ...passedOn]];
}
