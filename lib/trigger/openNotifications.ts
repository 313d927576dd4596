import type { IExecuteFunctions } from 'n8n-workflow';

import { decryptEncryptedContents, type DecryptBatchReport, type DecryptOutcome } from '../crypto/decryptEncryptedContents';
import { DECRYPT_THREADS_VARIABLE, sharedKeyUnwrapPool } from '../crypto/sharedKeyUnwrapPool';
import { notificationCertificateFor } from './notificationCertificateFor';

/** The fallback is safe and the pool pauses itself, so saying so once in a while is enough. */
const POOL_WARNING_INTERVAL_MS = 10 * 60_000;
let lastPoolWarningAt = 0;

/** What a process restart does to the warning's interval; for tests. */
export function forgetPoolWarning(): void {
	lastPoolWarningAt = 0;
}

/**
 * The encrypted content of each rich notification of a batch, opened with the certificate credential
 * that holds the keys it names: one outcome per notification, in order.
 */
export async function openNotifications(
	context: IExecuteFunctions,
	notifications: Array<Record<string, unknown>>,
): Promise<DecryptOutcome[]> {
	const certificateIds = new Set(
		notifications.flatMap((item) => {
			const id = (item.encryptedContent as { encryptionCertificateId?: unknown } | undefined)?.encryptionCertificateId;
			return typeof id === 'string' ? [id] : [];
		}),
	);
	const certificate = await notificationCertificateFor(context, certificateIds);
	const report: DecryptBatchReport = { onWorkerThreads: 0, onCallingThread: 0 };
	const startedAt = performance.now();
	const outcomes = await decryptEncryptedContents(
		notifications.map((item) => item.encryptedContent),
		certificate.keyRing,
		{ pool: sharedKeyUnwrapPool(), report },
	);
	if (report.poolFailure && Date.now() - lastPoolWarningAt > POOL_WARNING_INTERVAL_MS) {
		lastPoolWarningAt = Date.now();
		context.logger.warn(`Decrypting call notifications on n8n's main thread: ${report.poolFailure}. Set ${DECRYPT_THREADS_VARIABLE}=0 to stop trying worker threads`);
	}
	context.logger.debug(
		`Decrypted ${notifications.length} call notifications in ${Math.round(performance.now() - startedAt)} ms (${report.onWorkerThreads} on worker threads)`,
	);
	return outcomes;
}
