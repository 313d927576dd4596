import type { INodeProperties } from 'n8n-workflow';

/** Options every source offers, in its own Options collection. */
export const includeRawNotificationOption: INodeProperties = {
	displayName: 'Include Raw Notification',
	name: 'includeRawNotification',
	type: 'boolean',
	default: false,
	description: 'Whether to add the notification as Graph sent it (without its client state) to each item',
};

/** A source's subscription lifetime, up to the most Graph grants for its resource. */
export function lifetimeOption(maxMinutes: number): INodeProperties {
	return {
		displayName: 'Subscription Lifetime (Minutes)',
		name: 'lifetimeMinutes',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: maxMinutes },
		default: maxMinutes,
		description: 'How long each subscription lasts before it must be renewed; renewal happens at half this time',
	};
}
