import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import { decryptEncryptedContents, type DecryptBatchReport } from '../crypto/decryptEncryptedContents';
import { DECRYPT_THREADS_VARIABLE, sharedKeyUnwrapPool } from '../crypto/sharedKeyUnwrapPool';
import { TimeSlicer } from '../eventLoop/timeSlicer';
import type { AuthenticatedItem } from '../notifications/authenticateNotifications';
import { callEventItem } from '../notifications/callEventItem';
import { callEventKeys, recentCallEventsFor } from '../notifications/recentCallEvents';
import { notificationCertificateFor } from './notificationCertificateFor';
import type { TriggerParameters } from './triggerParameters';

/** The fallback is safe and the pool pauses itself, so saying so once in a while is enough. */
const POOL_WARNING_INTERVAL_MS = 10 * 60_000;
let lastPoolWarningAt = 0;

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
	const report: DecryptBatchReport = { onWorkerThreads: 0, onCallingThread: 0 };
	const startedAt = performance.now();
	const outcomes = await decryptEncryptedContents(
		accepted.map(({ item }) => item.encryptedContent),
		certificate.keyRing,
		{ pool: sharedKeyUnwrapPool(), report },
	);
	if (report.poolFailure && Date.now() - lastPoolWarningAt > POOL_WARNING_INTERVAL_MS) {
		lastPoolWarningAt = Date.now();
		context.logger.warn(`Decrypting call notifications on n8n's main thread: ${report.poolFailure}. Set ${DECRYPT_THREADS_VARIABLE}=0 to stop trying worker threads`);
	}
	context.logger.debug(
		`Decrypted ${accepted.length} call notifications in ${Math.round(performance.now() - startedAt)} ms (${report.onWorkerThreads} on worker threads)`,
	);
	const slicer = new TimeSlicer();
	for (const [index, { item, slot }] of accepted.entries()) {
		if (slicer.due) await slicer.yield();
		const outcome = outcomes[index]!;
		if ('error' in outcome) {
			const { error } = outcome;
			dropped.set(error.code, (dropped.get(error.code) ?? 0) + 1);
			firstDrop ||= `${slot.user}, subscription ${String(item.subscriptionId).slice(0, 64)}: ${error.message}`;
			continue;
		}
		const resource = outcome.resource;
		if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
			dropped.set('NOT_AN_OBJECT', (dropped.get('NOT_AN_OBJECT') ?? 0) + 1);
			firstDrop ||= `${slot.user}: the decrypted resource is not an object`;
			continue;
		}
		const output = callEventItem(item, resource as IDataObject, slot, receivedAt, parameters.includeRawNotification);
		const keys = callEventKeys(item, resource as IDataObject, String(output.event));
		if (keys.length > 0 && !recent.firstSighting(keys)) {
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
