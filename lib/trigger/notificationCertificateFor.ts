import type { IExecuteFunctions, IHookFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

import { BoundedCache } from '../boundedCache';
import {
	forgetParsedNotificationCertificates,
	readNotificationCertificate,
	type NotificationCertificate,
} from '../credentials/notificationCertificate';
import { NOTIFICATION_CERTIFICATE_CREDENTIAL } from './credentialNames';

const MAX_AGE_MS = 5 * 60_000;
const RELOAD_COOLDOWN_MS = 30_000;

interface Loaded {
	certificate: NotificationCertificate;
	loadedAt: number;
}

/** By credential ID: the same credential used by several triggers is read and parsed once. */
const loaded = new BoundedCache<string, Loaded>(256);

/**
 * The notification certificate without reading the credential for every request: in n8n 2.41 each
 * credential read in a webhook costs an expression sandbox (tens of milliseconds). The credential is
 * read again after a few minutes (to see edits), or when a notification names a certificate ID the
 * cached one does not hold (a rotation), at most every 30 seconds.
 */
export async function notificationCertificateFor(
	context: IHookFunctions | IWebhookFunctions | ITriggerFunctions | IExecuteFunctions,
	neededCertificateIds: Iterable<string> = [],
	options: { fresh?: boolean } = {},
): Promise<NotificationCertificate> {
	const credentialId = context.getNode().credentials?.[NOTIFICATION_CERTIFICATE_CREDENTIAL]?.id;
	const now = Date.now();
	const entry = credentialId ? loaded.get(credentialId) : undefined;
	if (entry && !options.fresh) {
		const age = now - entry.loadedAt;
		const missing = [...neededCertificateIds].some((id) => !entry.certificate.keyRing.keyFor(id));
		if (age < MAX_AGE_MS && (!missing || age < RELOAD_COOLDOWN_MS)) return entry.certificate;
	}
	const certificate = readNotificationCertificate(await context.getCredentials(NOTIFICATION_CERTIFICATE_CREDENTIAL));
	if (credentialId) loaded.set(credentialId, { certificate, loadedAt: now });
	return certificate;
}

/** What a process restart does to the certificates in memory; for tests. */
export function forgetNotificationCertificates(): void {
	loaded.clear();
	forgetParsedNotificationCertificates();
}
