import type { IDataObject } from 'n8n-workflow';

import type { GraphClient } from '../graph/graphClient';

/** 60 records a page (Graph's default): 100 pages is 6,000 calls, far more than a sweep's window brings. */
const MAX_PAGES = 100;
/**
 * Graph allows 40 list requests per 20 s (throttling limits, call records): one every 500 ms stays under
 * that whatever else the trigger does.
 */
export const LIST_REQUEST_SPACING_MS = 500;

interface Page {
	value?: IDataObject[];
	'@odata.nextLink'?: string;
}

/** An OData DateTimeOffset literal as Graph's documentation writes it: whole seconds, UTC. */
function odataDateTime(ms: number): string {
	return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface CallRecordLister {
	graph: GraphClient;
	sleep: (ms: number) => Promise<void>;
}

/** Every page of one list request, each request LIST_REQUEST_SPACING_MS after the one before. */
async function listAll(lister: CallRecordLister, first: string): Promise<{ records: IDataObject[]; truncated: boolean }> {
	let page = await lister.graph.request<Page>('GET', first);
	const records = [...(page.value ?? [])];
	for (let pages = 1; page['@odata.nextLink'] && pages < MAX_PAGES; pages++) {
		await lister.sleep(LIST_REQUEST_SPACING_MS);
		page = await lister.graph.request<Page>('GET', page['@odata.nextLink']);
		records.push(...(page.value ?? []));
	}
	await lister.sleep(LIST_REQUEST_SPACING_MS);
	return { records, truncated: Boolean(page['@odata.nextLink']) };
}

/**
 * GET communications/callRecords (v1.0), as Graph documents its `$filter`: on startDateTime alone, or on one
 * participant alone (`participants_v2/any(p:p/id eq '…')`), never both. For watched users each is listed by
 * participant (organizers who did not take part are not counted, as the subscription filter does not) and
 * kept from `since` on; for the whole tenant, by start time. Listed records carry no sessions and no
 * participants_v2.
 */
export async function listRecentCallRecords(
	lister: CallRecordLister,
	since: number,
	watchedUserIds: ReadonlySet<string> | undefined,
): Promise<{ records: IDataObject[]; truncated: boolean }> {
	if (!watchedUserIds) {
		const filter = encodeURIComponent(`startDateTime ge ${odataDateTime(since)}`);
		return listAll(lister, `communications/callRecords?$filter=${filter}`);
	}
	const byId = new Map<string, IDataObject>();
	let truncated = false;
	for (const userId of watchedUserIds) {
		const filter = encodeURIComponent(`participants_v2/any(p:p/id eq '${userId.replace(/'/g, "''")}')`);
		const listed = await listAll(lister, `communications/callRecords?$filter=${filter}`);
		truncated ||= listed.truncated;
		for (const record of listed.records) {
			const start = typeof record.startDateTime === 'string' ? Date.parse(record.startDateTime) : NaN;
			if (typeof record.id === 'string' && start >= since) byId.set(record.id, record);
		}
	}
	return { records: [...byId.values()], truncated };
}
