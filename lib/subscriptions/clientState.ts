import { createHmac, randomBytes, type KeyObject } from 'node:crypto';

/**
 * The clientState of a user's subscription at a notification URL, derived from the notification
 * certificate's private key, which every n8n process of the instance already holds (the credential).
 * Two activations of the same workflow, on two mains at once or one after the other, therefore choose
 * the same clientState: whichever subscription survives their race and whichever state the database
 * keeps, every process verifies the notifications. Nobody without the private key can derive it.
 * 64 URL-safe characters (HMAC-SHA384), well inside Graph's 128-character limit.
 */
export function derivedClientState(privateKey: KeyObject, notificationUrl: string, user: string): string {
	const keyBytes = privateKey.export({ format: 'der', type: 'pkcs8' });
	return createHmac('sha384', keyBytes)
		.update(`n8n-nodes-teams-calls clientState v1\n${notificationUrl}\n${user.trim().toLowerCase()}`)
		.digest('base64url');
}

/**
 * The clientState of a subscription of a source that has no notification certificate (call records).
 * Keyed by a digest of the app credential's secret (client secret or private key), which every n8n
 * process of the instance holds too: for the same reason as above, racing activations converge, and it
 * stays secret. A random clientState saved in static data would not: two mains activating at once would
 * each keep their own, and the one whose state is lost would refuse the surviving subscription's
 * notifications. Editing the credential changes it; the saved state keeps the clientState each
 * subscription was made with, so notifications stay verifiable until the subscriptions are made again.
 */
export function derivedClientStateFromSecret(secretDigest: Buffer, notificationUrl: string, target: string): string {
	return createHmac('sha384', secretDigest)
		.update(`n8n-nodes-teams-calls clientState v1 app\n${notificationUrl}\n${target}`)
		.digest('base64url');
}

/** When the certificate cannot be read, creating the subscription fails anyway and says why. */
export function randomClientState(): string {
	return randomBytes(48).toString('base64url');
}
