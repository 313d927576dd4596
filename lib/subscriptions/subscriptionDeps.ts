import type { Logger } from 'n8n-workflow';

import type { NotificationCertificate } from '../credentials/notificationCertificate';
import type { GraphClient } from '../graph/graphClient';
import type { SubscriptionApp } from './subscriptionState';

/** What subscription work needs from the n8n context it runs in. */
export interface SubscriptionDeps {
	graph: GraphClient;
	app: SubscriptionApp;
	/** Loaded lazily: only creating a subscription with resource data needs it. */
	certificate: () => Promise<NotificationCertificate>;
	/**
	 * Secret and the same in every n8n process of the instance: a digest of the app credential's secret or
	 * private key. Keys the clientState of sources without a notification certificate.
	 */
	appSecretDigest: Buffer;
	now: () => Date;
	logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

export interface WebhookUrls {
	notificationUrl: string;
	lifecycleUrl: string;
}
