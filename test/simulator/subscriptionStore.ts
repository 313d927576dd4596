/**
 * Subscriptions as Graph keeps them, per app. Expiry is evaluated against the simulator clock on every
 * read, so moving `now` forward makes a subscription vanish exactly as it would on Graph. Removed and
 * expired records are kept (not returned by the API) so tests can still inspect them or build
 * notifications for them.
 */
export interface SubscriptionLike {
	id: string;
	resource: string;
	changeType: string;
	notificationUrl: string;
	lifecycleNotificationUrl: string | null;
	expirationDateTime: string;
	clientState: string | null;
	applicationId: string;
	tenantId: string;
	encryptionCertificate: string | null;
	encryptionCertificateId: string | null;
}

export type SubscriptionState = 'active' | 'deleted' | 'removed' | 'expired';

export interface StoredSubscription extends SubscriptionLike {
	creatorId: string;
	includeResourceData: boolean;
	latestSupportedTlsVersion: string;
	notificationUrlAppId: string | null;
	notificationQueryOptions: string | null;
	/** Epoch ms of expirationDateTime. */
	expiresAt: number;
	createdAt: number;
	state: SubscriptionState;
	/** How often the app renewed (PATCH) or reauthorized it: lets tests assert renewal behaviour. */
	updateCount: number;
	reauthorizeCount: number;
	lastReauthorizedAt?: number;
}

export class SubscriptionStore {
	private readonly items = new Map<string, StoredSubscription>();

	constructor(private readonly now: () => number) {}

	add(subscription: StoredSubscription): void {
		this.items.set(subscription.id, subscription);
	}

	/** Any record, in any state. */
	find(id: string): StoredSubscription | undefined {
		return this.items.get(id.toLowerCase());
	}

	isLive(s: StoredSubscription): boolean {
		return s.state === 'active' && s.expiresAt > this.now();
	}

	/** A live subscription owned by this app, as GET/PATCH/DELETE see it. */
	getLive(id: string, applicationId: string): StoredSubscription | undefined {
		const s = this.find(id);
		return s && this.isLive(s) && s.applicationId === applicationId ? s : undefined;
	}

	listLive(applicationId?: string): StoredSubscription[] {
		return [...this.items.values()]
			.filter((s) => this.isLive(s) && (applicationId === undefined || s.applicationId === applicationId))
			.sort((a, b) => a.createdAt - b.createdAt);
	}

	all(): StoredSubscription[] {
		return [...this.items.values()];
	}

	setState(id: string, state: SubscriptionState): StoredSubscription {
		const s = this.find(id);
		if (!s) throw new Error(`Unknown subscription ${id}`);
		s.state = state;
		return s;
	}
}
