import type { IDataObject } from 'n8n-workflow';

import { eventTypeOf, normaliseDirection, normaliseEventType } from './callEvent';
import type { SubscriptionSlot } from '../subscriptions/subscriptionState';
import { watchedUserFields } from './watchedUserFields';

/**
 * One workflow item per call event. `data` is the decrypted resource with every field kept. The fields
 * every source's items share (`source`, times, `participants`) are null where the preview resource has
 * nothing for them, so one workflow can read items of any source the same way.
 */
function stringOrNull(value: unknown): string | null {
	return typeof value === 'string' ? value : null;
}

export function callEventItem(
	notification: Record<string, unknown>,
	resource: IDataObject,
	slot: SubscriptionSlot,
	receivedAt: string,
	includeRaw: boolean,
): IDataObject {
	const rawType = eventTypeOf(resource);
	const rawDirection = resource.direction;
	const event = normaliseEventType(rawType);
	const direction = normaliseDirection(rawDirection);
	const item: IDataObject = {
		event,
		source: 'callEvents',
		direction,
		...watchedUserFields(slot),
		csUrl: (resource.csUrl ?? resource.joinCallUrl ?? null) as string | null,
		callId: (resource.callId ?? null) as string | null,
		startDateTime: stringOrNull(resource.startDateTime),
		endDateTime: stringOrNull(resource.endDateTime),
		participants: null,
		receivedAt,
		subscriptionId: notification.subscriptionId as string,
		tenantId: (notification.tenantId ?? null) as string | null,
		changeType: (notification.changeType ?? null) as string | null,
		resource: (notification.resource ?? null) as string | null,
		data: resource,
	};
	if (event === 'unknown') item.originalEventType = (rawType ?? null) as string | null;
	if (direction === 'unknown') item.originalDirection = (rawDirection ?? null) as string | null;
	if (includeRaw) {
		// The raw notification without its clientState: that value authenticates Graph and stays secret.
		const raw = { ...notification };
		delete raw.clientState;
		item.rawNotification = raw as IDataObject;
	}
	return item;
}
