import { callRecordNotificationFor, type BasicCallRecordNotification, type StoredCallRecord } from './callRecords';
import { isCallRecordsResource, parseCallRecordsResource } from './callRecordSubscriptionRules';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * How Graph treats a call-records subscription filtered on `participants/any(p:p/id …)`, a property Graph
 * deprecated: 'honoured' (what Graph documents) notifies a record to the subscriptions whose filter names one
 * of its participants; 'matchesNothing' accepts and renews the subscription as usual but never notifies it.
 * Subscriptions without a filter (the whole tenant) are notified of every record either way.
 */
export type ParticipantsFilterBehaviour = 'honoured' | 'matchesNothing';

/**
 * The basic notifications Graph sends when a call record is created or updated: one per live call-records
 * subscription of that change type that the record matches, in the order the subscriptions were made.
 */
export function callRecordNotificationsFor(
	subscriptions: SubscriptionLike[],
	record: StoredCallRecord,
	changeType: 'created' | 'updated',
	behaviour: ParticipantsFilterBehaviour,
): BasicCallRecordNotification[] {
	const participants = new Set(record.participants.map((user) => user.id.toLowerCase()));
	return subscriptions
		.filter((subscription) => isCallRecordsResource(subscription.resource) && subscription.changeType.split(',').includes(changeType))
		.filter((subscription) => {
			const filterIds = parseCallRecordsResource(subscription.resource, Infinity);
			if (filterIds.length === 0) return true;
			return behaviour === 'honoured' && filterIds.some((id) => participants.has(id));
		})
		.map((subscription) => callRecordNotificationFor(subscription, record.id, changeType));
}
