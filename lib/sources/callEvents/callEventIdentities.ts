import { identityOf, notificationIdentity } from '../../delivery/deliveryIdentity';

/**
 * What makes two deliveries the same call event: the delivery itself (Graph's notification `id`, or the
 * sealed content a redelivery repeats), and the call with its event time (the same event re-sent under a new
 * notification). A user who leaves and rejoins a call gets a new notification and a new event time, so the
 * call identifiers alone never decide: that would swallow the rejoin.
 */
export function callEventIdentities(
	notification: Record<string, unknown>,
	resource: Record<string, unknown>,
	event: string,
): string[] {
	const identities: string[] = [];
	const delivery = notificationIdentity(notification);
	if (delivery) identities.push(delivery);
	const eventTime = resource.eventDateTime;
	if (typeof eventTime === 'string' && eventTime) {
		const callIdentifiers = [resource.callId, resource.csUrl, resource.joinCallUrl].filter(
			(value): value is string => typeof value === 'string' && value.length > 0,
		);
		identities.push(identityOf(['event', notification.subscriptionId, notification.resource, event, callIdentifiers, eventTime]));
	}
	return identities;
}
