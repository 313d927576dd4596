import { createHash } from 'node:crypto';
import { sleep, type IHookFunctions, type ITriggerFunctions, type IWebhookFunctions } from 'n8n-workflow';

import { readAppCredential } from '../auth/appCredential';
import { GraphClient } from '../graph/graphClient';
import type { NotificationCertificate } from '../credentials/notificationCertificate';
import type { SubscriptionDeps } from '../subscriptions/subscriptionDeps';
import { APP_CREDENTIAL } from './credentialNames';
import { notificationCertificateFor } from './notificationCertificateFor';

type SubscriptionContext = IHookFunctions | IWebhookFunctions | ITriggerFunctions;

/** Wires subscription work to the n8n context it runs in: its credentials, HTTP helper and logger. */
export async function subscriptionDepsFor(
	context: SubscriptionContext,
	apiVersion: string,
	/** Activation reads the certificate credential afresh: the author may just have edited it. */
	options: { freshCertificate?: boolean } = {},
): Promise<SubscriptionDeps> {
	const credential = readAppCredential(await context.getCredentials(APP_CREDENTIAL));
	// Read afresh once per activation, not once per user: each read costs n8n 2.41 an expression sandbox.
	let freshRead: Promise<NotificationCertificate> | undefined;
	const freshCertificate = () => {
		freshRead ??= notificationCertificateFor(context, [], { fresh: true }).catch((error: unknown) => {
			freshRead = undefined;
			throw error;
		});
		return freshRead;
	};
	return {
		app: { clientId: credential.clientId, tenantId: credential.tenantId, endpoints: credential.endpoints },
		graph: new GraphClient(context.helpers.httpRequest.bind(context.helpers), credential, {
			apiVersion,
			sleep,
		}),
		certificate: options.freshCertificate ? freshCertificate : () => notificationCertificateFor(context, []),
		appSecretDigest: createHash('sha256').update(JSON.stringify(credential.auth)).digest(),
		now: () => new Date(),
		logger: context.logger,
	};
}
