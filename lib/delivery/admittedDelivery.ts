import type { IDataObject } from 'n8n-workflow';

import type { SlotTarget } from '../subscriptions/callSources';
import type { SubscriptionSlot } from '../subscriptions/subscriptionState';

/** Marks an item that webhook() or the sweep hands to execute(), which does the work. */
const MARK = '_teamsCallDelivery';

/** Who a notification's subscription watches, as webhook() found it: the slot without its secret. */
export interface WatchedSlot {
	userId: string;
	user: string;
	userPrincipalName?: string;
	displayName?: string;
	target?: SlotTarget;
}

/** A notification webhook() admitted (shape, clientState, validation tokens checked), still sealed. */
export interface AdmittedNotification {
	kind: 'notification';
	notification: Record<string, unknown>;
	watched: WatchedSlot;
	receivedAt: string;
}

/** A call record the sweep listed and whose notification may never have come. */
export interface SweptCallRecord {
	kind: 'sweptCallRecord';
	id: string;
	tenantId: string | null;
	receivedAt: string;
}

export type Delivery = AdmittedNotification | SweptCallRecord;

/** The item webhook() returns for one admitted notification; the clientState stays out of every execution. */
export function admittedNotificationItem(notification: Record<string, unknown>, slot: SubscriptionSlot, receivedAt: string): IDataObject {
	const rest = { ...notification };
	delete rest.clientState;
	const watched: WatchedSlot = { userId: slot.userId, user: slot.user };
	if (slot.userPrincipalName !== undefined) watched.userPrincipalName = slot.userPrincipalName;
	if (slot.displayName !== undefined) watched.displayName = slot.displayName;
	if (slot.target !== undefined) watched.target = slot.target;
	const delivery: AdmittedNotification = { kind: 'notification', notification: rest, watched, receivedAt };
	return { [MARK]: delivery } as unknown as IDataObject;
}

export function sweptCallRecordItem(id: string, tenantId: string | null, receivedAt: string): IDataObject {
	const delivery: SweptCallRecord = { kind: 'sweptCallRecord', id, tenantId, receivedAt };
	return { [MARK]: delivery } as unknown as IDataObject;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The delivery an item carries, or undefined for any other item (passed on as it is). */
export function deliveryOf(json: IDataObject): Delivery | undefined {
	const value = (json as Record<string, unknown>)[MARK];
	if (!isObject(value) || typeof value.receivedAt !== 'string') return undefined;
	if (value.kind === 'notification' && isObject(value.notification) && isObject(value.watched)) {
		const watched = value.watched;
		if (typeof watched.userId !== 'string' || typeof watched.user !== 'string') return undefined;
		return value as unknown as AdmittedNotification;
	}
	if (value.kind === 'sweptCallRecord' && typeof value.id === 'string') return value as unknown as SweptCallRecord;
	return undefined;
}

/** The notifications among the deliveries (a sweep's record IDs are the Call Records source's alone). */
export function admittedNotifications(deliveries: Delivery[]): AdmittedNotification[] {
	return deliveries.filter((delivery): delivery is AdmittedNotification => delivery.kind === 'notification');
}

/** The watched slot in the shape the item builders take; it has no clientState, which they never read. */
export function slotOf(watched: WatchedSlot): SubscriptionSlot {
	return { ...watched, resource: '', clientState: '' };
}
