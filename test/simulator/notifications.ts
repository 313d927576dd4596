import { encryptForSubscription, type EncryptedContent } from './encryption';
import { GRAPH_CHANGE_TRACKING_APP_ID, newGuid } from './ids';
import { signJwt } from './jwt';
import type { SigningKey } from './signingKeys';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * The items Graph POSTs: rich change notifications, lifecycle notifications, and the validation tokens
 * (JWTs from the "Microsoft Graph Change Tracking" app) that prove a batch came from Graph.
 */
export interface ChangeNotificationItem {
	id?: string;
	subscriptionId: string;
	subscriptionExpirationDateTime: string;
	changeType: string;
	resource: string;
	resourceData: Record<string, unknown>;
	clientState: string | null;
	tenantId: string;
	encryptedContent: EncryptedContent;
	[field: string]: unknown;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface LifecycleNotificationItem {
	subscriptionId: string;
	subscriptionExpirationDateTime: string;
	tenantId: string;
	clientState: string | null;
	lifecycleEvent: LifecycleEvent;
	[field: string]: unknown;
}

export type NotificationItem = ChangeNotificationItem | LifecycleNotificationItem;

export function isLifecycleItem(item: NotificationItem): item is LifecycleNotificationItem {
	return typeof item.lifecycleEvent === 'string';
}

/** Overrides are merged last; a key set to undefined is removed (e.g. to send an item without `id`). */
function applyOverrides<T extends Record<string, unknown>>(item: T, overrides: Record<string, unknown> | undefined): T {
	for (const [key, value] of Object.entries(overrides ?? {})) {
		if (value === undefined) delete item[key];
		else (item as Record<string, unknown>)[key] = value;
	}
	return item;
}

export function notificationFor(
	subscription: SubscriptionLike,
	resource: Record<string, unknown>,
	overrides?: Record<string, unknown>,
): ChangeNotificationItem {
	const item: ChangeNotificationItem = {
		id: newGuid(),
		subscriptionId: subscription.id,
		subscriptionExpirationDateTime: subscription.expirationDateTime,
		changeType: 'updated',
		resource: subscription.resource,
		resourceData: {
			'@odata.type': resource['@odata.type'],
			'@odata.id': resource['@odata.id'],
			id: resource.id,
		},
		clientState: subscription.clientState,
		tenantId: subscription.tenantId,
		encryptedContent: encryptForSubscription(subscription, resource),
	};
	return applyOverrides(item, overrides);
}

export function lifecycleNotificationFor(
	subscription: SubscriptionLike,
	lifecycleEvent: LifecycleEvent,
	overrides?: Record<string, unknown>,
): LifecycleNotificationItem {
	const item: LifecycleNotificationItem = {
		subscriptionId: subscription.id,
		subscriptionExpirationDateTime: subscription.expirationDateTime,
		tenantId: subscription.tenantId,
		clientState: subscription.clientState,
		lifecycleEvent,
	};
	return applyOverrides(item, overrides);
}

export const VALIDATION_TOKEN_LIFETIME_SECONDS = 3600;

/** A v1.0 token as Graph includes in validationTokens: aud = the receiving app, appid/azp = Graph's publisher. */
export function signValidationToken(
	key: SigningKey,
	appId: string,
	tenantId: string,
	nowMs: number,
	overrides?: Record<string, unknown>,
): string {
	const nowSec = Math.floor(nowMs / 1000);
	const claims: Record<string, unknown> = {
		aud: appId,
		iss: `https://sts.windows.net/${tenantId}/`,
		iat: nowSec,
		nbf: nowSec,
		exp: nowSec + VALIDATION_TOKEN_LIFETIME_SECONDS,
		aio: newGuid(),
		appid: GRAPH_CHANGE_TRACKING_APP_ID,
		appidacr: '2',
		azp: GRAPH_CHANGE_TRACKING_APP_ID,
		idp: `https://sts.windows.net/${tenantId}/`,
		tid: tenantId,
		uti: newGuid().replace(/-/g, ''),
		ver: '1.0',
	};
	return signJwt({ typ: 'JWT', kid: key.kid, x5t: key.kid }, applyOverrides(claims, overrides), key.privateKey, 'RS256');
}
