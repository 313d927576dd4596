import { randomBytes } from 'node:crypto';

import { deleteSubscription, listSubscriptions } from '../graph/subscriptionsApi';
import { resolveUserId } from '../graph/users';
import { explainSubscriptionError } from './explainSubscriptionError';
import { postSubscription } from './postSubscription';
import type { SubscriptionDeps, WebhookUrls } from './subscriptionDeps';
import { resourceFor, sameResource, settingsKey, type SubscriptionSettings } from './subscriptionSettings';
import type { SubscriptionSlot, SubscriptionState } from './subscriptionState';

export class SubscriptionSetupError extends Error {
	override name = 'SubscriptionSetupError';
}

/** 64 URL-safe characters: well inside Graph's 128-character limit, 384 bits of randomness. */
export function newClientState(): string {
	return randomBytes(48).toString('base64url');
}

/**
 * Activation: one subscription per watched user, all or nothing. Leftovers at our URL (from an earlier
 * activation whose clientState is gone) are replaced, and if one user fails, the subscriptions made
 * for the others are deleted again, so a failed activation leaves nothing behind.
 */
export async function createSubscriptions(
	deps: SubscriptionDeps,
	settings: SubscriptionSettings,
	urls: WebhookUrls,
	previous: SubscriptionState | undefined,
): Promise<SubscriptionState> {
	const state: SubscriptionState = {
		version: 1,
		activationId: randomBytes(12).toString('hex'),
		...urls,
		apiVersion: settings.apiVersion,
		lifetimeMinutes: settings.lifetimeMinutes,
		settingsKey: settingsKey(settings),
		app: deps.app,
		slots: [],
	};
	const created: SubscriptionSlot[] = [];
	let currentUser = settings.users[0];
	try {
		const existing = await listSubscriptions(deps.graph);
		const leftovers = existing.filter(
			(subscription) =>
				subscription.notificationUrl === urls.notificationUrl ||
				previous?.slots.some((slot) => slot.subscriptionId === subscription.id),
		);
		for (const user of settings.users) {
			currentUser = user;
			const userId = await resolveUserId(deps.graph, user);
			const resource = resourceFor(settings.resourceTemplate, userId);
			for (const leftover of leftovers.filter((subscription) => sameResource(subscription.resource, resource))) {
				await deleteSubscription(deps.graph, leftover.id);
			}
			const slot = await postSubscription(
				deps,
				state,
				{ userId, user, resource, clientState: newClientState() },
				'replace',
			);
			created.push(slot);
		}
		// Leftovers for users no longer watched would otherwise keep delivering to this URL.
		for (const leftover of leftovers) {
			if (!created.some((slot) => sameResource(slot.resource, leftover.resource))) {
				await deleteSubscription(deps.graph, leftover.id);
			}
		}
	} catch (error) {
		await rollBack(deps, created);
		const message = explainSubscriptionError(error, currentUser, urls.notificationUrl);
		throw new SubscriptionSetupError(
			created.length > 0
				? `${message} (the ${created.length} subscription(s) already created for other users were deleted again)`
				: message,
		);
	}
	return { ...state, slots: created };
}

async function rollBack(deps: SubscriptionDeps, created: SubscriptionSlot[]): Promise<void> {
	for (const slot of created) {
		if (!slot.subscriptionId) continue;
		try {
			await deleteSubscription(deps.graph, slot.subscriptionId);
		} catch (error) {
			deps.logger.warn(
				`Could not delete subscription ${slot.subscriptionId} for ${slot.user} while undoing a failed activation; it expires on its own at ${slot.expiresAt}: ${(error as Error).message}`,
			);
		}
	}
}
