import { sleep, type IExecuteFunctions, type IWebhookFunctions } from 'n8n-workflow';

import { readAppCredential, type AppCredential } from '../auth/appCredential';
import { forgetGraphClient } from '../auth/graphTokenProvider';
import { BoundedCache } from '../boundedCache';
import { GraphClient } from '../graph/graphClient';
import { graphTransport } from '../graph/graphTransport';
import { APP_CREDENTIAL } from './credentialNames';

const MAX_AGE_MS = 5 * 60_000;

/** By credential ID: read and parsed once for many requests. */
const loaded = new BoundedCache<string, { credential: AppCredential; loadedAt: number }>(256);

type Context = IWebhookFunctions | IExecuteFunctions;

function credentialIdOf(context: Context): string | undefined {
	return context.getNode().credentials?.[APP_CREDENTIAL]?.id ?? undefined;
}

async function readCredential(context: Context): Promise<AppCredential> {
	const credential = readAppCredential(await context.getCredentials(APP_CREDENTIAL));
	const credentialId = credentialIdOf(context);
	if (credentialId) loaded.set(credentialId, { credential, loadedAt: Date.now() });
	return credential;
}

function clientFor(context: Context, credential: AppCredential, apiVersion: string): GraphClient {
	return new GraphClient(graphTransport, credential, { apiVersion, sleep, logger: context.logger });
}

/**
 * The Graph client of one execution's reads (call records), without reading the app credential for every
 * execution: in n8n 2.41 each credential read costs an expression sandbox. The credential is read again after
 * a few minutes, to see edits, and at once after Entra ID refused it (`afterTokenError`). The client itself is
 * made for each execution; its requests reuse connections (lib/graph/graphTransport.ts), as a burst of records
 * costs many reads.
 */
export class NotificationGraph {
	private current?: Promise<{ client: GraphClient; credential: AppCredential }>;
	private reread?: Promise<GraphClient>;

	constructor(
		private readonly context: Context,
		private readonly apiVersion: string,
	) {}

	async client(): Promise<GraphClient> {
		return (await (this.current ??= this.load())).client;
	}

	/**
	 * Entra ID refused the credential behind `failed` a token: it may have been edited since it was cached (a
	 * rotated secret). Drops it and its MSAL client and reads it again from n8n, once per execution; undefined
	 * when that was already done, so the caller gives up.
	 */
	async afterTokenError(failed: GraphClient): Promise<GraphClient | undefined> {
		if (this.reread) {
			const reread = await this.reread;
			return reread === failed ? undefined : reread;
		}
		const current = await (this.current ??= this.load());
		if (current.client !== failed) return current.client;
		this.reread = (async () => {
			forgetGraphClient(current.credential);
			const credentialId = credentialIdOf(this.context);
			if (credentialId) loaded.delete(credentialId);
			const credential = await readCredential(this.context);
			const client = clientFor(this.context, credential, this.apiVersion);
			this.current = Promise.resolve({ client, credential });
			return client;
		})();
		return this.reread;
	}

	private async load(): Promise<{ client: GraphClient; credential: AppCredential }> {
		const credentialId = credentialIdOf(this.context);
		const entry = credentialId ? loaded.get(credentialId) : undefined;
		const cached = entry && Date.now() - entry.loadedAt < MAX_AGE_MS ? entry.credential : undefined;
		const credential = cached ?? (await readCredential(this.context));
		return { client: clientFor(this.context, credential, this.apiVersion), credential };
	}
}

/** What a process restart does to the cache; for tests. */
export function forgetNotificationGraphCredentials(): void {
	loaded.clear();
}
