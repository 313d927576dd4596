import { createHash } from 'node:crypto';

/** A short, fixed-length identity from its parts (n8n's store hashes it again). */
export function identityOf(parts: unknown[]): string {
	return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * What names one delivery of a notification: Graph's notification `id` when it sent one; otherwise, for a
 * rich notification, its sealed content's signature (a redelivery carries the same bytes, and every new event
 * is sealed under a fresh key). undefined for a basic notification without an `id`.
 */
export function notificationIdentity(notification: Record<string, unknown>): string | undefined {
	if (typeof notification.id === 'string' && notification.id) {
		return identityOf(['notification', notification.subscriptionId, notification.id]);
	}
	const signature = (notification.encryptedContent as { dataSignature?: unknown } | undefined)?.dataSignature;
	if (typeof signature === 'string' && signature) return identityOf(['sealed', signature]);
	return undefined;
}
