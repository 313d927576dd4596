import { GraphHttpError } from './errors';

/**
 * What Graph accepts as a call-records subscription resource (concepts/changenotifications-for-callrecords.md
 * and the supported-resources table): `/communications/callRecords`, or
 * `/communications/callRecords?$filter=…` filtered on the participants' Entra object IDs with `eq`, `or`
 * and `in`. Everything else in the filter is refused.
 *
 * Graph's documentation gives no length limit for that filter. The simulator refuses a resource longer than
 * CALL_RECORDS_RESOURCE_MAX_LENGTH (a conservative bound below common URL limits, configurable), so
 * that code splitting a long user list is held to a limit at all.
 */
export const CALL_RECORDS_RESOURCE_MAX_LENGTH = 2048;
export const CALL_RECORDS_MAX_LIFETIME_MINUTES = 4230;
export const CALL_RECORDS_SUBSCRIPTIONS_PER_ORGANIZATION = 100;
export const CALL_RECORDS_CHANGE_TYPES = ['created', 'updated'];

const BASE = /^communications\/callRecords(?:\?(.*))?$/i;
const GUID = "'([0-9a-fA-F-]{36})'";
const EQ_CLAUSE = new RegExp(`^participants/any\\((\\w+):\\1/id eq ${GUID}\\)$`);
const IN_CLAUSE = new RegExp(`^participants/any\\((\\w+):\\1/id in \\((${GUID}(?:,\\s*${GUID})*)\\)\\)$`);

export function isCallRecordsResource(resource: string): boolean {
	return BASE.test(resource.replace(/^\/+/, ''));
}

const bad = (message: string) => new GraphHttpError(400, 'InvalidRequest', message);

/** The participant IDs the filter names; [] for the whole tenant. Throws Graph's 400 for anything else. */
export function parseCallRecordsResource(resource: string, maxLength = CALL_RECORDS_RESOURCE_MAX_LENGTH): string[] {
	const trimmed = resource.replace(/^\/+/, '');
	if (resource.length > maxLength) {
		throw bad(`The resource is ${resource.length} characters long; at most ${maxLength} are supported.`);
	}
	const match = BASE.exec(trimmed);
	if (!match) throw bad(`Resource '${resource}' is not supported for change notifications.`);
	const query = match[1];
	if (query === undefined) return [];
	const filterMatch = /^\$filter=(.+)$/.exec(query);
	if (!filterMatch) throw bad(`Query option '${query.split('=')[0]}' is not supported for this resource; only $filter is.`);
	let filter = filterMatch[1];
	try {
		filter = decodeURIComponent(filter.replace(/\+/g, ' '));
	} catch {
		throw bad('The $filter is not correctly URL-encoded.');
	}
	const ids: string[] = [];
	for (const clause of filter.split(/\s+or\s+/)) {
		const eq = EQ_CLAUSE.exec(clause.trim());
		if (eq) {
			ids.push(eq[2].toLowerCase());
			continue;
		}
		const list = IN_CLAUSE.exec(clause.trim());
		if (list) {
			ids.push(...[...list[2].matchAll(/'([0-9a-fA-F-]{36})'/g)].map((m) => m[1].toLowerCase()));
			continue;
		}
		throw bad(`Invalid filter clause '${clause.slice(0, 200)}': call records can be filtered on participants/id with eq, or and in only.`);
	}
	return ids;
}
