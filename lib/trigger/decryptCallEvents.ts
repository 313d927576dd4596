import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import { decryptEncryptedContent } from '../crypto/decryptEncryptedContent';
import { NotificationDecryptionError } from '../crypto/errors';
import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import { callEventItem } from '../notifications/callEventItem';
import { callEventKey, recentCallEventsFor } from '../notifications/recentCallEvents';
import { notificationCertificateFor } from './notificationCertificateFor';
import type { TriggerParameters } from './triggerParameters';

/**
 * An RSA private-key operation takes about 0.3 ms (2048 bits) to 4 ms (4096 bits). Yielding once a slice
 * has used this much time keeps other requests (Graph's next delivery, whose 3 s clock is running)
 * from waiting behind a big batch, whatever the key size.
 */
const SLICE_MS = 5;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Authenticated change notifications → call-event items: decrypted, normalised, de-duplicated and
 * filtered. Items that cannot be opened are dropped and summed up in one log line per batch.
 */
export async function decryptCallEvents(
	context: IWebhookFunctions,
	accepted: AuthenticatedItem[],
	parameters: TriggerParameters,
	triggerKey: string,
	receivedAt: string,
): Promise<IDataObject[]> {
	const certificateIds = new Set(
		accepted.flatMap(({ item }) => {
			const id = (item.encryptedContent as { encryptionCertificateId?: unknown } | undefined)?.encryptionCertificateId;
			return typeof id === 'string' ? [id] : [];
		}),
	);
	const certificate = await notificationCertificateFor(context, certificateIds);
	const recent = recentCallEventsFor(triggerKey);
	const items: IDataObject[] = [];
	const dropped = new Map<string, number>();
	let firstDrop = '';
	let sliceStart = performance.now();
	for (const { item, slot } of accepted) {
		if (performance.now() - sliceStart > SLICE_MS) {
			await yieldToEventLoop();
			sliceStart = performance.now();
		}
		let resource: unknown;
		try {
			resource = decryptEncryptedContent(item.encryptedContent, certificate.keyRing);
		} catch (error) {
			if (!(error instanceof NotificationDecryptionError)) throw error;
			dropped.set(error.code, (dropped.get(error.code) ?? 0) + 1);
			firstDrop ||= `${slot.user}, subscription ${String(item.subscriptionId).slice(0, 64)}: ${error.message}`;
			continue;
		}
		if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
			dropped.set('NOT_AN_OBJECT', (dropped.get('NOT_AN_OBJECT') ?? 0) + 1);
			firstDrop ||= `${slot.user}: the decrypted resource is not an object`;
			continue;
		}
		const output = callEventItem(item, resource as IDataObject, slot, receivedAt, parameters.includeRawNotification);
		const key = callEventKey(item, resource as IDataObject, String(output.event));
		if (key && !recent.firstSighting(key)) {
			context.logger.debug(`Skipped a redelivered ${String(output.event)} for ${slot.user}`);
			continue;
		}
		const eventWanted = output.event === 'unknown' || parameters.events.includes(output.event as never);
		const directionWanted =
			output.direction === 'unknown' || parameters.directions.includes(output.direction as never);
		if (eventWanted && directionWanted) items.push(output);
	}
	if (dropped.size > 0) {
		const counts = [...dropped].map(([code, count]) => `${code}: ${count}`).join(', ');
		const total = [...dropped.values()].reduce((sum, count) => sum + count, 0);
		// One line per batch, however many items were bad: a hostile batch must not flood the log.
		context.logger.warn(`Dropped ${total} of ${accepted.length} call notifications (${counts}); first: ${firstDrop}`);
	}
	return items;
}
