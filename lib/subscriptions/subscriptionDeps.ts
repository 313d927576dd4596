import type { Logger } from 'n8n-workflow';

import type { NotificationCertificate } from '../credentials/notificationCertificate';
import type { GraphClient } from '../graph/graphClient';
import type { SubscriptionApp } from './subscriptionState';

/** What subscription work needs from the n8n context it runs in. */
export interface SubscriptionDeps {
	graph: GraphClient;
	app: SubscriptionApp;
	/** Loaded lazily: only creating a subscription needs it. */
	certificate: () => Promise<NotificationCertificate>;
	now: () => Date;
	logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

export interface WebhookUrls {
	notificationUrl: string;
	lifecycleUrl: string;
}
