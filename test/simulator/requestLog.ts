/**
 * Every request either host receives, in arrival order, so tests can assert what the code under test
 * did (and did not) call: e.g. no discovery GETs, one token request per cache lifetime, retry counts.
 */
export type HostKind = 'login' | 'graph';

export interface LoggedRequest {
	method: string;
	host: HostKind;
	path: string;
	query: Record<string, string>;
	status: number;
	/** Wall-clock ms when the request arrived. */
	time: number;
	/** True when the answer came from injectFault rather than the simulated service. */
	fault: boolean;
	/** The calling app (client_id on login, appid of the bearer token on Graph), when known. */
	clientId?: string;
}

export interface RequestFilter {
	method?: string;
	host?: HostKind;
	/** Exact path, or a RegExp tested against the path. */
	path?: string | RegExp;
	status?: number;
	clientId?: string;
}

export class RequestLog {
	private readonly entries: LoggedRequest[] = [];

	add(entry: LoggedRequest): void {
		this.entries.push(entry);
	}

	all(): LoggedRequest[] {
		return [...this.entries];
	}

	filter(filter: RequestFilter = {}): LoggedRequest[] {
		return this.entries.filter((e) => matches(e, filter));
	}

	count(filter: RequestFilter = {}): number {
		return this.filter(filter).length;
	}

	clear(): void {
		this.entries.length = 0;
	}
}

function matches(entry: LoggedRequest, f: RequestFilter): boolean {
	if (f.method !== undefined && entry.method !== f.method.toUpperCase()) return false;
	if (f.host !== undefined && entry.host !== f.host) return false;
	if (f.status !== undefined && entry.status !== f.status) return false;
	if (f.clientId !== undefined && entry.clientId !== f.clientId) return false;
	if (f.path !== undefined) {
		if (typeof f.path === 'string' ? entry.path !== f.path : !f.path.test(entry.path)) return false;
	}
	return true;
}
