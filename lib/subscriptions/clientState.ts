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

/** When the certificate cannot be read, creating the subscription fails anyway and says why. */
export function randomClientState(): string {
	return randomBytes(48).toString('base64url');
}
