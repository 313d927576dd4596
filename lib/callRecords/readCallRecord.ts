import type { IDataObject } from 'n8n-workflow';

import { GraphApiError } from '../graph/graphApiError';
import type { GraphClient } from '../graph/graphClient';

/** Graph pages sessions by at most 60 and participants by 130; a call with more than 100 pages is cut there, and says so. */
const MAX_PAGES = 100;

/** Graph reads one trigger makes at once, across all the notifications it is handling and its sweeps. */
export const RECORD_READS_PER_TRIGGER = 4;

export interface ReadCallRecordOptions {
	includeSessions: boolean;
}

interface Page {
	value?: IDataObject[];
	'@odata.nextLink'?: string;
}

/** The expanded collection of `record`, with every page behind `{name}@odata.nextLink` added. */
async function allPages(graph: GraphClient, record: IDataObject, name: string): Promise<{ values: IDataObject[]; truncated: boolean }> {
	const values = Array.isArray(record[name]) ? [...(record[name] as IDataObject[])] : [];
	let next = record[`${name}@odata.nextLink`] as string | undefined;
	for (let pages = 0; typeof next === 'string' && next && pages < MAX_PAGES; pages++) {
		const page = await graph.request<Page>('GET', next);
		values.push(...(page.value ?? []));
		next = page['@odata.nextLink'];
	}
	return { values, truncated: typeof next === 'string' && next.length > 0 };
}

async function getRecord(graph: GraphClient, id: string, expand: string): Promise<IDataObject | undefined> {
	try {
		return await graph.request<IDataObject>('GET', `communications/callRecords/${encodeURIComponent(id)}?$expand=${expand}`);
	} catch (error) {
		if (error instanceof GraphApiError && error.status === 404) return undefined;
		throw error;
	}
}

/**
 * GET communications/callRecords/{id} (v1.0) with its participants (`$expand=participants_v2`: the older
 * `participants` and `organizer` properties stopped returning data on June 30, 2026), and, when asked, a
 * second GET with `$expand=sessions($expand=segments)`; each collection is followed through its
 * `@odata.nextLink` until complete. Graph documents each expansion on its own, so they are not combined.
 * undefined when Graph answers 404: a record that is not readable yet, older than 30 days, or that never
 * existed.
 */
export async function readCallRecord(
	graph: GraphClient,
	id: string,
	options: ReadCallRecordOptions,
): Promise<IDataObject | undefined> {
	const record = await getRecord(graph, id, 'participants_v2');
	if (!record) return undefined;
	const participants = await allPages(graph, record, 'participants_v2');
	const complete: IDataObject = { ...record, participants_v2: participants.values };
	delete complete['participants_v2@odata.nextLink'];
	if (participants.truncated) complete.participantsTruncated = true;
	if (!options.includeSessions) return complete;
	return withSessions(graph, id, complete);
}

/**
 * `record` (as readCallRecord returns it) with every session and its segments added: a second GET with
 * `$expand=sessions($expand=segments)`, followed through `sessions@odata.nextLink`. undefined on 404.
 */
export async function withSessions(graph: GraphClient, id: string, record: IDataObject): Promise<IDataObject | undefined> {
	const expanded = await getRecord(graph, id, 'sessions($expand=segments)');
	if (!expanded) return undefined;
	const sessions = await allPages(graph, expanded, 'sessions');
	const complete: IDataObject = { ...record, sessions: sessions.values };
	if (sessions.truncated) complete.sessionsTruncated = true;
	return complete;
}
