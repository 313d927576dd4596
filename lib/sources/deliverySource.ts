import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { Delivery } from '../delivery/admittedDelivery';
import type { TriggerRuntime } from '../delivery/triggerRuntime';
import type { TriggerParameters } from '../trigger/triggerParameters';

/**
 * What one call source does inside the execution that webhook() (or the sweep) started: open or read what
 * was delivered, build the items, keep those the parameters ask for, and drop what n8n's store says already
 * ran. The core calls it without asking which source it serves.
 */
export interface DeliverySource {
	work(context: IExecuteFunctions, deliveries: Delivery[], parameters: TriggerParameters, runtime: TriggerRuntime): Promise<IDataObject[]>;
}
