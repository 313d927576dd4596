import type { IDataObject } from 'n8n-workflow';

import type { SubscriptionSlot } from '../subscriptions/subscriptionState';

/** Who an item is about, as every item of a watched user names them. */
export function watchedUserFields(slot: SubscriptionSlot): IDataObject {
	return {
		userId: slot.userId,
		userPrincipalName: slot.userPrincipalName ?? null,
		userDisplayName: slot.displayName ?? null,
	};
}
