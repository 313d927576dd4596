import type { IDataObject } from 'n8n-workflow';

import { GraphApiError } from '../graph/graphApiError';
import type { GraphClient } from '../graph/graphClient';

/** Graph pages sessions by at most 60; a call with more than 6,000 sessions is cut there, and says so. */
const MAX_SESSION_PAGES = 100;

export interface ReadCallRecordOptions {
	includeSessions: boolean;
}

/**
 * GET communications/callRecords/{id} (v1.0), with sessions and their segments when asked, following
 * `sessions@odata.nextLink` until every session is in the record. undefined when Graph answers 404: a
 * record that is not readable yet, older than 30 days, or that never existed.
 */
export async function readCallRecord(
	graph: GraphClient,
	id: string,
	options: ReadCallRecordOptions,
): Promise<IDataObject | undefined> {
	const path = `communications/callRecords/${encodeURIComponent(id)}${options.includeSessions ? '?$expand=sessions($expand=segments)' : ''}`;
	let record: IDataObject;
	try {
		record = await graph.request<IDataObject>('GET', path);
	} catch (error) {
		if (error instanceof GraphApiError && error.status === 404) return undefined;
		throw error;
	}
	if (!options.includeSessions) return record;
	const sessions = Array.isArray(record.sessions) ? [...(record.sessions as IDataObject[])] : [];
	let next = record['sessions@odata.nextLink'] as string | undefined;
	let pages = 0;
	while (typeof next === 'string' && next && pages < MAX_SESSION_PAGES) {
		const page = await graph.request<{ value?: IDataObject[]; '@odata.nextLink'?: string }>('GET', next);
		sessions.push(...(page.value ?? []));
		next = page['@odata.nextLink'];
		pages++;
	}
	const complete: IDataObject = { ...record, sessions };
	delete complete['sessions@odata.nextLink'];
	if (typeof next === 'string' && next) complete.sessionsTruncated = true;
	return complete;
}
