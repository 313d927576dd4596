import { sleep, type IExecuteFunctions, type IWebhookFunctions } from 'n8n-workflow';

import { readAppCredential, type AppCredential } from '../auth/appCredential';
import { BoundedCache } from '../boundedCache';
import { GraphClient } from '../graph/graphClient';
import { APP_CREDENTIAL } from './credentialNames';

const MAX_AGE_MS = 5 * 60_000;

/** By credential ID: read and parsed once for many requests. */
const loaded = new BoundedCache<string, { credential: AppCredential; loadedAt: number }>(256);

/**
 * A Graph client for work a notification leads to (reading call records), without reading the app
 * credential for every execution: in n8n 2.41 each credential read costs an expression sandbox.
 * The credential is read again after a few minutes, to see edits. The client itself is made for each
 * execution, on its HTTP helper.
 */
export async function notificationGraphClient(context: IWebhookFunctions | IExecuteFunctions, apiVersion: string): Promise<GraphClient> {
	const credentialId = context.getNode().credentials?.[APP_CREDENTIAL]?.id;
	const entry = credentialId ? loaded.get(credentialId) : undefined;
	let credential = entry && Date.now() - entry.loadedAt < MAX_AGE_MS ? entry.credential : undefined;
	if (!credential) {
		credential = readAppCredential(await context.getCredentials(APP_CREDENTIAL));
		if (credentialId) loaded.set(credentialId, { credential, loadedAt: Date.now() });
	}
	return new GraphClient(context.helpers.httpRequest.bind(context.helpers), credential, { apiVersion, sleep, logger: context.logger });
}

/** What a process restart does to the cache; for tests. */
export function forgetNotificationGraphCredentials(): void {
	loaded.clear();
}
