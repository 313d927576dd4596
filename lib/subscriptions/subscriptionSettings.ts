import { createHash } from 'node:crypto';

export const DEFAULT_RESOURCE_TEMPLATE = 'users/{id}/callConversations';
export const MAX_LIFETIME_MINUTES = 1440;
const USER_ID_PLACEHOLDER = /\{id\}/gi;

/** What the workflow author chose, as the subscription code needs it. */
export interface SubscriptionSettings {
	users: string[];
	resourceTemplate: string;
	lifetimeMinutes: number;
	apiVersion: string;
}

export class SubscriptionSettingsError extends Error {
	override name = 'SubscriptionSettingsError';
}

export function validateSettings(settings: SubscriptionSettings): SubscriptionSettings {
	const users = [...new Set(settings.users.map((user) => user.trim()).filter(Boolean))];
	if (users.length === 0) {
		throw new SubscriptionSettingsError('Add at least one user to watch (object ID or user principal name)');
	}
	// The placeholder in any case ({id}, {ID}, {Id}) stands for the user's object ID.
	const resourceTemplate =
		settings.resourceTemplate.trim().replace(/^\/+/, '').replace(USER_ID_PLACEHOLDER, '{id}') || DEFAULT_RESOURCE_TEMPLATE;
	if (!resourceTemplate.includes('{id}')) {
		throw new SubscriptionSettingsError(
			`The resource path "${resourceTemplate}" must contain {id} where the user's object ID goes, like ${DEFAULT_RESOURCE_TEMPLATE}`,
		);
	}
	const lifetimeMinutes = Math.floor(settings.lifetimeMinutes);
	if (!(lifetimeMinutes >= 1 && lifetimeMinutes <= MAX_LIFETIME_MINUTES)) {
		throw new SubscriptionSettingsError(
			`The subscription lifetime must be 1 to ${MAX_LIFETIME_MINUTES} minutes (Graph allows at most one day for call events)`,
		);
	}
	const apiVersion = settings.apiVersion.trim() || 'beta';
	if (!/^(v1\.0|beta)$/.test(apiVersion)) {
		throw new SubscriptionSettingsError('The Graph API version must be beta or v1.0');
	}
	return { users, resourceTemplate, lifetimeMinutes, apiVersion };
}

export function resourceFor(template: string, userId: string): string {
	return template.split('{id}').join(userId);
}

/** Graph may echo a resource with another case, a leading slash, or "user/" for "users/". */
export function sameResource(a: string, b: string): boolean {
	const normalise = (resource: string) =>
		resource.trim().replace(/^\/+/, '').replace(/^user\//i, 'users/').toLowerCase();
	return normalise(a) === normalise(b);
}

export function settingsKey(settings: SubscriptionSettings): string {
	return createHash('sha256')
		.update(JSON.stringify([settings.users, settings.resourceTemplate, settings.apiVersion]))
		.digest('hex')
		.slice(0, 32);
}
