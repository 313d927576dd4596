import { randomBytes } from 'node:crypto';

import { mapWithConcurrency } from '../concurrency/mapWithConcurrency';
import { deleteSubscription, listSubscriptions, type GraphSubscription } from '../graph/subscriptionsApi';
import { resolveUser } from '../graph/users';
import { ActivationRefusedError, refusalFor, userFailure, type UserFailure } from './activationVerdict';
import {
	callRecordsSlotKey,
	callRecordsSlotLabel,
	callRecordsTargets,
	meetingSlotKey,
} from './callSources';
import { meetingCallEventsResource } from '../meetings/meetingCallEventsResource';
import { derivedClientState, derivedClientStateFromSecret, randomClientState } from './clientState';
import { postSubscription } from './postSubscription';
import type { SubscriptionDeps, WebhookUrls } from './subscriptionDeps';
import { resourceFor, sameResource, settingsKey, type SubscriptionSettings } from './subscriptionSettings';
import { slotFor, type SubscriptionSlot, type SubscriptionState } from './subscriptionState';

/** Each creation waits for Graph's handshake on the URL: a few at once, not a hundred one by one. */
export const ACTIVATION_CONCURRENCY = 4;

export interface ActivationResult {
	/** Every watched user has a slot; a failed user's slot has no subscription yet and the timer retries it. */
	state: SubscriptionState;
	failures: UserFailure[];
}

export interface ActivationOptions {
	/** Test mode has no timer to finish what failed: any failure refuses. */
	allOrNothing: boolean;
}


/**
 * Activation: one subscription per watched user. Users that fail keep a slot without a subscription
 * (with its clientState) for the renewal timer to finish; activation is refused only when nothing can
 * work for anyone. Leftovers at our URL (from an earlier activation whose clientState is gone) are
 * replaced.
 */
export async function createSubscriptions(
	deps: SubscriptionDeps,
	settings: SubscriptionSettings,
	urls: WebhookUrls,
	previous: SubscriptionState | undefined,
	options: ActivationOptions,
): Promise<ActivationResult> {
	const state: SubscriptionState = {
		version: 1,
		activationId: randomBytes(12).toString('hex'),
		...urls,
		apiVersion: settings.apiVersion,
		...(settings.source === 'callRecords' || settings.source === 'meetingCallEvents'
			? { source: settings.source, changeType: settings.changeType }
			: {}),
		lifetimeMinutes: settings.lifetimeMinutes,
		settingsKey: settingsKey(settings),
		app: deps.app,
		slots: [],
	};
	const failures: UserFailure[] = [];
	const fail = (user: string, error: unknown) => failures.push(userFailure(error, user, urls.notificationUrl, settings.source));

	let leftovers: GraphSubscription[] | undefined;
	let listFailure: { error: unknown } | undefined;
	try {
		leftovers = (await listSubscriptions(deps.graph)).filter(
			(subscription) =>
				subscription.notificationUrl === urls.notificationUrl ||
				previous?.slots.some((slot) => slot.subscriptionId === subscription.id),
		);
	} catch (error) {
		listFailure = { error };
	}

	const slots: SubscriptionSlot[] =
		settings.source === 'callRecords'
			? await callRecordsSlots(deps, settings, urls)
			: settings.source === 'meetingCallEvents'
				? meetingSlots(deps, settings, urls)
				: await userSlots(deps, settings, urls);
	// Every slot, the whole tenant's included, is left for the renewal timer to subscribe.
	if (listFailure) for (const slot of slots) fail(slot.user, listFailure.error);
	if (leftovers) {
		const found = leftovers;
		const outcomes = await mapWithConcurrency(slots, ACTIVATION_CONCURRENCY, async (slot, index) => {
			const resolved = slot.target ? slot : await resolvedUserSlot(deps, settings, slot);
			slots[index] = resolved;
			for (const leftover of found.filter((subscription) => sameResource(subscription.resource, resolved.resource))) {
				await deleteSubscription(deps.graph, leftover.id);
			}
			slots[index] = { ...(await postSubscription(deps, state, resolved, 'replace')), app: deps.app };
		});
		outcomes.forEach((outcome, index) => {
			if (!outcome.ok) fail(slots[index].user, outcome.error);
		});
		await deleteUnwatchedLeftovers(deps, found, slots);
	}

	const created = slots.filter((slot) => slot.subscriptionId).length;
	const refusal = refusalFor(failures, created, options.allOrNothing);
	if (refusal) throw new ActivationRefusedError(refusal, failures);
	return { state: { ...state, slots }, failures };
}

async function userSlots(deps: SubscriptionDeps, settings: SubscriptionSettings, urls: WebhookUrls): Promise<SubscriptionSlot[]> {
	const clientStateKey = await deps
		.certificate()
		.then((certificate) => certificate.keyRing.keyFor(certificate.certificateId))
		.catch(() => undefined);
	return settings.users.map((user) => ({
		userId: '',
		user,
		resource: settings.resourceTemplate,
		clientState: clientStateKey ? derivedClientState(clientStateKey, urls.notificationUrl, user) : randomClientState(),
	}));
}

async function resolvedUserSlot(deps: SubscriptionDeps, settings: SubscriptionSettings, slot: SubscriptionSlot): Promise<SubscriptionSlot> {
	const user = await resolveUser(deps.graph, slot.user);
	return { ...slotFor(slot, user), resource: resourceFor(settings.resourceTemplate, user.id) };
}

/**
 * Call records: every user is looked up first, because the filter chunks are built from their IDs. A
 * user that cannot be looked up refuses the activation (the filter would silently leave them out); no
 * user at all means the whole tenant.
 */
async function callRecordsSlots(
	deps: SubscriptionDeps,
	settings: SubscriptionSettings,
	urls: WebhookUrls,
): Promise<SubscriptionSlot[]> {
	const lookups = await mapWithConcurrency(settings.users, ACTIVATION_CONCURRENCY, async (user) => (await resolveUser(deps.graph, user)).id);
	const failures = lookups.flatMap((outcome, index) =>
		outcome.ok ? [] : [userFailure(outcome.error, settings.users[index], urls.notificationUrl, 'callRecords')],
	);
	if (failures.length > 0) {
		throw new ActivationRefusedError(refusalFor(failures, 0, true) ?? failures[0].message, failures);
	}
	const idsToUsers = new Map(settings.users.map((user, index) => [(lookups[index] as { value: string }).value, user]));
	return callRecordsTargets([...idsToUsers.keys()], settings.callRecordsFilter).map(({ resource, target }) => ({
		userId: callRecordsSlotKey(target),
		user: callRecordsSlotLabel(target, (target.keptParticipantIds ?? target.participantIds).map((id) => idsToUsers.get(id) ?? id)),
		resource,
		target,
		clientState: derivedClientStateFromSecret(deps.appSecretDigest, urls.notificationUrl, resource),
	}));
}

/** Meeting call events: one slot per meeting, keyed by its join URL; nothing to look up. */
function meetingSlots(deps: SubscriptionDeps, settings: SubscriptionSettings, urls: WebhookUrls): SubscriptionSlot[] {
	return settings.users.map((joinUrl) => {
		const resource = meetingCallEventsResource(joinUrl);
		return {
			userId: meetingSlotKey(joinUrl),
			user: `meeting ${joinUrl.length > 90 ? `${joinUrl.slice(0, 87)}…` : joinUrl}`,
			resource,
			target: { kind: 'meeting' as const, joinUrl },
			clientState: derivedClientStateFromSecret(deps.appSecretDigest, urls.notificationUrl, resource),
		};
	});
}

/** Leftovers for users no longer watched would otherwise keep delivering to this URL. */
async function deleteUnwatchedLeftovers(
	deps: SubscriptionDeps,
	leftovers: GraphSubscription[],
	slots: SubscriptionSlot[],
): Promise<void> {
	for (const leftover of leftovers) {
		if (slots.some((slot) => slot.userId && sameResource(slot.resource, leftover.resource))) continue;
		try {
			await deleteSubscription(deps.graph, leftover.id);
		} catch (error) {
			deps.logger.warn(
				`Could not delete leftover Graph subscription ${leftover.id} for ${leftover.resource}; it expires on its own: ${(error as Error).message}`,
			);
		}
	}
}
