import type { IDataObject } from 'n8n-workflow';

import type { CloudEndpoints } from '../clouds';
import type { ResolvedUser } from '../graph/users';
import type { CallSource, SlotTarget } from './callSources';

/**
 * One watched user's subscription. The clientState is chosen once per activation and kept when the
 * subscription has to be created again, so notifications stay verifiable by every n8n process that
 * reads the saved state, including ones that never saw the new subscription ID.
 */
export interface SubscriptionSlot {
	/** Entra object ID, lower case. */
	userId: string;
	/** As the workflow author entered it (UPN or ID), for messages. */
	user: string;
	/** From the directory at activation, for items; absent when the app may not read users. */
	userPrincipalName?: string;
	displayName?: string;
	resource: string;
	clientState: string;
	subscriptionId?: string;
	expiresAt?: string;
	/** When the current expiry was granted: half-way between this and expiresAt, renewal is due. */
	renewedAt?: string;
	/** The encryption certificate the subscription was made with; a rotated credential moves it. */
	certificateId?: string;
	/** What the slot subscribes to when it is not one user's calls (see callSources.ts); absent: a user. */
	target?: SlotTarget;
	/** The app registration the subscription belongs to; absent in state saved before: the state's `app`. */
	app?: SubscriptionApp;
	/**
	 * After a switch to another app registration: the previous app, whose subscription this one replaced and
	 * which Graph keeps delivering until `until` (its expiry), since the new app may not delete it.
	 */
	replacedApp?: { app: SubscriptionApp; until: string };
}

/** Who the subscriptions were made for: what a notification's validation token must name. Not secret. */
export interface SubscriptionApp {
	clientId: string;
	tenantId: string;
	endpoints: CloudEndpoints;
}

export interface SubscriptionState {
	version: 1;
	/** Random per activation: tells a stale in-memory copy from the saved state of a newer activation. */
	activationId: string;
	notificationUrl: string;
	lifecycleUrl: string;
	apiVersion: string;
	/** Absent in state saved before sources existed: the preview call events. */
	source?: CallSource;
	/** The subscriptions' changeType; absent: 'updated' (call events). */
	changeType?: string;
	lifetimeMinutes: number;
	/** What the slots were made from; a change of settings means a new set of subscriptions. */
	settingsKey: string;
	/** The app of the credential the subscriptions were last made or renewed with; the slots' own `app` wins. Absent in state saved before it was recorded; then the credential is read instead. */
	app?: SubscriptionApp;
	slots: SubscriptionSlot[];
}

const STATE_KEY = 'teamsCallSubscriptions';

/** The slot for a user the directory has just resolved: names from an earlier lookup do not outlive it. */
export function slotFor(slot: SubscriptionSlot, user: ResolvedUser): SubscriptionSlot {
	const resolved: SubscriptionSlot = { ...slot, userId: user.id };
	delete resolved.userPrincipalName;
	delete resolved.displayName;
	if (user.userPrincipalName) resolved.userPrincipalName = user.userPrincipalName;
	if (user.displayName) resolved.displayName = user.displayName;
	return resolved;
}

function isSlot(value: unknown): value is SubscriptionSlot {
	const slot = value as SubscriptionSlot;
	return (
		typeof slot === 'object' &&
		slot !== null &&
		typeof slot.userId === 'string' &&
		typeof slot.user === 'string' &&
		typeof slot.resource === 'string' &&
		typeof slot.clientState === 'string' &&
		slot.clientState.length > 0
	);
}

/** The saved state, or undefined when there is none or it is not in a shape this version understands. */
export function readSubscriptionState(staticData: IDataObject): SubscriptionState | undefined {
	const state = staticData[STATE_KEY] as SubscriptionState | undefined;
	if (
		!state ||
		state.version !== 1 ||
		typeof state.activationId !== 'string' ||
		typeof state.notificationUrl !== 'string' ||
		typeof state.lifecycleUrl !== 'string' ||
		typeof state.lifetimeMinutes !== 'number' ||
		!Array.isArray(state.slots) ||
		!state.slots.every(isSlot)
	) {
		return undefined;
	}
	return state;
}

export function writeSubscriptionState(staticData: IDataObject, state: SubscriptionState | undefined): void {
	if (state) {
		// A copy: callers keep mutating their own objects without touching what n8n will save.
		staticData[STATE_KEY] = JSON.parse(JSON.stringify(state)) as IDataObject;
	} else {
		delete staticData[STATE_KEY];
	}
}
