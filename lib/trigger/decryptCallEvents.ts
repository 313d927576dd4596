import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import { TimeSlicer } from '../eventLoop/timeSlicer';
import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import { callEventItem } from '../notifications/callEventItem';
import { DropTally } from '../notifications/dropTally';
import { callEventKeys, recentCallEventsFor } from '../notifications/recentCallEvents';
import { openNotifications } from './openNotifications';
import type { TriggerParameters } from './triggerParameters';

/**
 * Authenticated change notifications → call-event items: decrypted, normalised, de-duplicated and
 * filtered. Items that cannot be opened are dropped and summed up in one log line per batch.
 */
export async function decryptCallEvents(
	context: IWebhookFunctions,
	accepted: AuthenticatedItem[],
	parameters: TriggerParameters,
	triggerKey: string,
	receivedAt: string,
): Promise<IDataObject[]> {
	const outcomes = await openNotifications(context, accepted.map(({ item }) => item));
	const recent = recentCallEventsFor(triggerKey);
	const items: IDataObject[] = [];
	const dropped = new DropTally();
	const slicer = new TimeSlicer();
	for (const [index, { item, slot }] of accepted.entries()) {
		if (slicer.due) await slicer.yield();
		const outcome = outcomes[index]!;
		if ('error' in outcome) {
			dropped.drop(outcome.error.code, `${slot.user}, subscription ${String(item.subscriptionId).slice(0, 64)}: ${outcome.error.message}`);
			continue;
		}
		const resource = outcome.resource;
		if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
			dropped.drop('NOT_AN_OBJECT', `${slot.user}: the decrypted resource is not an object`);
			continue;
		}
		const output = callEventItem(item, resource as IDataObject, slot, receivedAt, parameters.includeRawNotification);
		const keys = callEventKeys(item, resource as IDataObject, String(output.event));
		if (keys.length > 0 && !recent.firstSighting(keys)) {
			context.logger.debug(`Skipped a redelivered ${String(output.event)} for ${slot.user}`);
			continue;
		}
		const eventWanted = output.event === 'unknown' || parameters.events.includes(output.event as never);
		const directionWanted =
			output.direction === 'unknown' || parameters.directions.includes(output.direction as never);
		if (eventWanted && directionWanted) items.push(output);
	}
	dropped.warn(context.logger, accepted.length, 'call notifications');
	return items;
}
