import { NodeOperationError, type INode } from 'n8n-workflow';

import { TokenRequestError } from '../../auth/tokenRequestError';
import { GraphApiError } from '../../graph/graphApiError';

/** A record a notification or the sweep named that could not be read: it ran nowhere and is not marked as run. */
export interface UnreadableRecord {
	id: string;
	/** A notification named it, or the missed-record sweep listed it. */
	detectedBy: 'notification' | 'sweep';
	/** Graph answered 404 for the whole wait; else the error of the last attempt. */
	cause: { notFound: true } | { error: Error };
}

/** A batch can hold 1,000 records; the description stays readable. */
const MAX_EXPLAINED = 20;

const AFTERWARDS =
	'Nothing ran for these records and they are not marked as run: retry this execution once the cause is fixed, or let a redelivery or the missed-record sweep (every 15 minutes, records of the last hours) run each once.';

/** What went wrong with one record, and what to fix, in the user's terms. */
export function explainUnreadable({ id, detectedBy, cause }: UnreadableRecord, waitSeconds: number): string {
	if ('notFound' in cause) {
		const known =
			detectedBy === 'sweep'
				? 'Microsoft Graph listed this call record'
				: "Microsoft Graph announced this call record (the notification carried the subscription's secret clientState)";
		return `${id}: ${known} but answered 404 for all of Wait for New Records (${waitSeconds} s). Graph can take longer to make a record readable: raise Wait for New Records.`;
	}
	const { error } = cause;
	if (error instanceof TokenRequestError) {
		return `${id}: Entra ID refused a token for the app credential, also after reading the credential again: ${error.message}. Fix the Microsoft Graph app credential.`;
	}
	if (error instanceof GraphApiError && (error.status === 403 || error.status === 401)) {
		return `${id}: ${error.message}. The app needs the Microsoft Graph application permission CallRecords.Read.All with admin consent (Entra ID > App registrations > API permissions > Grant admin consent).`;
	}
	if (error instanceof GraphApiError && error.isRetryable) {
		return `${id}: Microsoft Graph kept failing for all of Wait for New Records (${waitSeconds} s), retries included: ${error.message}. This is usually a Graph incident (see the Microsoft 365 service health); nothing to change in n8n.`;
	}
	return `${id}: ${error.message}`;
}

/** The failed execution's error: the record IDs and the first cause in the message, every cause in the description. */
export function unreadableRecordsError(node: INode, unreadable: UnreadableRecord[], waitSeconds: number): NodeOperationError {
	const explained = unreadable.slice(0, MAX_EXPLAINED).map((record) => explainUnreadable(record, waitSeconds));
	if (unreadable.length > MAX_EXPLAINED) explained.push(`… and ${unreadable.length - MAX_EXPLAINED} more.`);
	const ids = unreadable.map(({ id }) => id);
	const named = ids.length === 1 ? `call record ${ids[0]}` : `${ids.length} call records (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`;
	return new NodeOperationError(node, `Could not read ${named} from Microsoft Graph: ${explained[0]!.slice(ids[0]!.length + 2)}`, {
		description: `${explained.join('\n')}\n${AFTERWARDS}`,
	});
}
