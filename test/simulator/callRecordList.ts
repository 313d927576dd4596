import type { IncomingMessage } from 'http';

import type { AccessTokenClaims } from './accessTokens';
import { CALL_RECORDS_PERMISSION, listedCallRecordJson, type CallRecordsApiDeps, type StoredCallRecord } from './callRecords';
import { GraphHttpError } from './errors';
import type { ApiResult } from './subscriptionsApi';

/**
 * GET /{v}/communications/callRecords as Graph v1.0 documents it
 * (api-reference/v1.0/api/callrecords-cloudcommunications-list-callrecords.md):
 * - `$filter` only on startDateTime (`lt`, `le`, `gt`, `ge`) and on a participant's ID (`eq`). The page shows
 *   the two forms each alone (`startDateTime ge … and startDateTime lt …`; `participants_v2/any(p:p/id eq '…')`),
 *   so only those are accepted: comparisons of startDateTime joined by `and`, or one participant clause. Any
 *   other filter, a combination of the two, or any other query option but `$select`, is answered 400.
 * - Paged by `@odata.nextLink`, 60 records a page by default; `Prefer: odata.maxpagesize=n` asks for fewer.
 * - No record older than 30 days, and each record without its expandable relationships (sessions,
 *   participants_v2).
 * - Application permission CallRecords.Read.All.
 */
export const DEFAULT_CALL_RECORDS_LIST_PAGE_SIZE = 60;

const DATE_TIME = '(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d(?::\\d\\d(?:\\.\\d{1,7})?)?(?:Z|[+-]\\d\\d:\\d\\d))';
const START_COMPARISON = new RegExp(`^startDateTime (lt|le|gt|ge) ${DATE_TIME}$`);
const PARTICIPANT = /^participants_v2\/any\((\w+):\1\/id eq '([^']+)'\)$/;

type Comparison = { op: 'lt' | 'le' | 'gt' | 'ge'; at: number };
type RecordFilter = { kind: 'all' } | { kind: 'start'; comparisons: Comparison[] } | { kind: 'participant'; id: string };

const badFilter = (filter: string) =>
	new GraphHttpError(
		400,
		'BadRequest',
		`Invalid filter clause: '${filter.slice(0, 200)}'. Filtering is supported only on startDateTime (lt, le, gt, ge) or on participants_v2/any(p:p/id eq '…').`,
	);

/** The filter as the documentation shows it, or Graph's 400. */
export function parseCallRecordsListFilter(filter: string | null): RecordFilter {
	if (filter === null) return { kind: 'all' };
	const trimmed = filter.trim();
	const participant = PARTICIPANT.exec(trimmed);
	if (participant) return { kind: 'participant', id: participant[2].toLowerCase() };
	const comparisons: Comparison[] = [];
	for (const clause of trimmed.split(/\s+and\s+/)) {
		const match = START_COMPARISON.exec(clause.trim());
		const at = match ? Date.parse(match[2]) : NaN;
		if (!match || Number.isNaN(at)) throw badFilter(filter);
		comparisons.push({ op: match[1] as Comparison['op'], at });
	}
	return { kind: 'start', comparisons };
}

function matches(record: StoredCallRecord, filter: RecordFilter): boolean {
	if (filter.kind === 'all') return true;
	if (filter.kind === 'participant') {
		return record.participants.some((user) => user.id.toLowerCase() === filter.id);
	}
	const start = Date.parse(record.startDateTime);
	return filter.comparisons.every(({ op, at }) =>
		op === 'lt' ? start < at : op === 'le' ? start <= at : op === 'gt' ? start > at : start >= at,
	);
}

/** `Prefer: odata.maxpagesize=n`, honoured only when smaller than the default. */
function preferredPageSize(req: IncomingMessage): number {
	const prefer = req.headers.prefer;
	const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
	const match = /(?:^|[,;\s])odata\.maxpagesize=(\d+)/i.exec(text);
	const asked = match ? Number(match[1]) : NaN;
	return Number.isInteger(asked) && asked > 0 ? Math.min(asked, DEFAULT_CALL_RECORDS_LIST_PAGE_SIZE) : DEFAULT_CALL_RECORDS_LIST_PAGE_SIZE;
}

interface PageToken {
	filter: string | null;
	select: string | null;
	offset: number;
}

function readToken(token: string): PageToken {
	try {
		const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;
		if (Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed;
	} catch {
		// Answered below.
	}
	throw new GraphHttpError(400, 'BadRequest', 'Invalid $skiptoken.');
}

function selected(json: Record<string, unknown>, select: string | null): Record<string, unknown> {
	if (select === null) return json;
	const names = select.split(',').map((name) => name.trim());
	return Object.fromEntries(Object.entries(json).filter(([name]) => names.includes(name) || name.startsWith('@')));
}

/** GET /{v}/communications/callRecords[?$filter=…][&$select=…] and the pages behind its nextLink. */
export function listCallRecords(
	req: IncomingMessage,
	query: URLSearchParams,
	caller: AccessTokenClaims,
	version: string,
	deps: CallRecordsApiDeps,
): ApiResult {
	if (!caller.roles.includes(CALL_RECORDS_PERMISSION)) {
		throw new GraphHttpError(403, 'Forbidden', 'Insufficient privileges to complete the operation.');
	}
	const token = query.get('$skiptoken');
	for (const name of query.keys()) {
		if (!['$filter', '$select', '$skiptoken'].includes(name) || (token !== null && name !== '$skiptoken')) {
			throw new GraphHttpError(400, 'BadRequest', `Query option '${name}' is not supported for this request.`);
		}
	}
	const request: PageToken = token === null ? { filter: query.get('$filter'), select: query.get('$select'), offset: 0 } : readToken(token);
	const filter = parseCallRecordsListFilter(request.filter);
	const tenantId = deps.tenantIdOf(caller);
	const all = deps.store
		.listable()
		.filter((record) => matches(record, filter))
		.sort((a, b) => Date.parse(a.startDateTime) - Date.parse(b.startDateTime) || a.id.localeCompare(b.id));
	const size = preferredPageSize(req);
	const page = all.slice(request.offset, request.offset + size);
	const nextOffset = request.offset + size < all.length ? request.offset + size : undefined;
	const base = deps.graphBaseUrl();
	const body: Record<string, unknown> = {
		'@odata.context': `${base}/${version}/$metadata#communications/callRecords`,
		value: page.map((record) => selected(listedCallRecordJson(record, tenantId, base, version), request.select)),
	};
	if (nextOffset !== undefined) {
		const next = Buffer.from(JSON.stringify({ ...request, offset: nextOffset })).toString('base64url');
		body['@odata.nextLink'] = `${base}/${version}/communications/callRecords?$skiptoken=${next}`;
	}
	return { status: 200, body };
}
