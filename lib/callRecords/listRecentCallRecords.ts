import type { IDataObject } from 'n8n-workflow';

import type { GraphClient } from '../graph/graphClient';

/** 60 records a page (Graph's default): 100 pages is 6,000 calls, far more than 4 hours of a large tenant bring. */
const MAX_PAGES = 100;

interface Page {
	value?: IDataObject[];
	'@odata.nextLink'?: string;
}

/** An OData DateTimeOffset literal as Graph's documentation writes it: whole seconds, UTC. */
function odataDateTime(ms: number): string {
	return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * GET communications/callRecords (v1.0) of the records that started at or after `since`, every page.
 * Graph documents `$filter` on startDateTime alone or on one participant alone, never both together, so
 * this lists by time only; the caller decides which records are its users'. Listed records carry no
 * sessions and no participants_v2.
 */
export async function listRecentCallRecords(graph: GraphClient, since: number): Promise<{ records: IDataObject[]; truncated: boolean }> {
	const filter = encodeURIComponent(`startDateTime ge ${odataDateTime(since)}`);
	let page = await graph.request<Page>('GET', `communications/callRecords?$filter=${filter}`);
	const records = [...(page.value ?? [])];
	for (let pages = 1; page['@odata.nextLink'] && pages < MAX_PAGES; pages++) {
		page = await graph.request<Page>('GET', page['@odata.nextLink']);
		records.push(...(page.value ?? []));
	}
	return { records, truncated: Boolean(page['@odata.nextLink']) };
}
