import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { admittedNotifications, slotOf, type Delivery } from '../../delivery/admittedDelivery';
import type { TriggerRuntime } from '../../delivery/triggerRuntime';
import { TimeSlicer } from '../../eventLoop/timeSlicer';
import { callEventItem } from '../../notifications/callEventItem';
import { DropTally } from '../../notifications/dropTally';
import { openNotifications } from '../../trigger/openNotifications';
import type { TriggerParameters } from '../../trigger/triggerParameters';
import type { DeliverySource } from '../deliverySource';
import { callEventIdentities } from './callEventIdentities';

/**
 * The preview call events: each admitted notification decrypted, normalised and filtered by event and
 * direction, then kept only when n8n's store has not seen it. Notifications that cannot be opened are
 * dropped and summed up in one log line per execution.
 */
async function openCallEvents(
	context: IExecuteFunctions,
	deliveries: Delivery[],
	parameters: TriggerParameters,
	runtime: TriggerRuntime,
): Promise<IDataObject[]> {
	const admitted = admittedNotifications(deliveries);
	const outcomes = await openNotifications(context, admitted.map(({ notification }) => notification));
	const wanted: Array<{ item: IDataObject; identities: string[] }> = [];
	const dropped = new DropTally();
	const slicer = new TimeSlicer();
	for (const [index, { notification, watched, receivedAt }] of admitted.entries()) {
		if (slicer.due) await slicer.yield();
		const outcome = outcomes[index]!;
		if ('error' in outcome) {
			dropped.drop(outcome.error.code, `${watched.user}, subscription ${String(notification.subscriptionId).slice(0, 64)}: ${outcome.error.message}`);
			continue;
		}
		const resource = outcome.resource;
		if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
			dropped.drop('NOT_AN_OBJECT', `${watched.user}: the decrypted resource is not an object`);
			continue;
		}
		const item = callEventItem(notification, resource as IDataObject, slotOf(watched), receivedAt, parameters.includeRawNotification);
		const eventWanted = item.event === 'unknown' || parameters.events.includes(item.event as never);
		const directionWanted = item.direction === 'unknown' || parameters.directions.includes(item.direction as never);
		if (!eventWanted || !directionWanted) continue;
		wanted.push({ item, identities: callEventIdentities(notification, resource as IDataObject, String(item.event)) });
	}
	dropped.warn(context.logger, admitted.length, 'call notifications');
	const items = await runtime.processed.keepFirstSightings(context, wanted);
	if (items.length < wanted.length) context.logger.debug(`Skipped ${wanted.length - items.length} call events that already ran`);
	return items;
}

export const callEventsSource: DeliverySource = { work: openCallEvents };
