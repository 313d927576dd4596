import type { HostKind } from './requestLog';

/**
 * Scripted failures: "the next N requests matching X get status Y". Lets tests drive retry, back-off and
 * error-mapping paths (429 + Retry-After, 5xx, 403, dropped connections) without special code in handlers.
 */
export interface FaultSpec {
	method?: string;
	/** A string matches when the request path contains it; a RegExp is tested against the path. */
	pathPattern: string | RegExp;
	/** Restrict to one host; both by default. */
	host?: HostKind;
	status: number;
	/** Graph error code / Entra `error`; defaults depend on status. */
	code?: string;
	message?: string;
	/** For Entra-shaped answers: the AADSTS number. */
	aadsts?: number;
	retryAfterSeconds?: number;
	/** How many matching requests get this answer (default 1). */
	times?: number;
	/** Wait this long before answering (e.g. to trip client timeouts). */
	delayMs?: number;
	/** Destroy the connection without an answer (a network error for the client); status is then only logged. */
	dropConnection?: boolean;
}

export interface ActiveFault extends FaultSpec {
	remaining: number;
}

export class FaultInjector {
	private readonly faults: ActiveFault[] = [];

	add(spec: FaultSpec): ActiveFault {
		const fault = { ...spec, remaining: spec.times ?? 1 };
		this.faults.push(fault);
		return fault;
	}

	/** Finds the first matching fault and uses up one of its repetitions. */
	take(host: HostKind, method: string, path: string): ActiveFault | undefined {
		const index = this.faults.findIndex((f) => f.remaining > 0 && matches(f, host, method, path));
		if (index < 0) return undefined;
		const fault = this.faults[index];
		fault.remaining -= 1;
		if (fault.remaining <= 0) this.faults.splice(index, 1);
		return fault;
	}

	pending(): ActiveFault[] {
		return [...this.faults];
	}

	clear(): void {
		this.faults.length = 0;
	}
}

function matches(f: FaultSpec, host: HostKind, method: string, path: string): boolean {
	if (f.host !== undefined && f.host !== host) return false;
	if (f.method !== undefined && f.method.toUpperCase() !== method) return false;
	return typeof f.pathPattern === 'string' ? path.includes(f.pathPattern) : f.pathPattern.test(path);
}

const DEFAULT_GRAPH_CODES: Record<number, string> = {
	400: 'BadRequest',
	401: 'InvalidAuthenticationToken',
	403: 'Forbidden',
	404: 'ResourceNotFound',
	409: 'Conflict',
	429: 'TooManyRequests',
	500: 'InternalServerError',
	502: 'BadGateway',
	503: 'ServiceUnavailable',
	504: 'GatewayTimeout',
};

export function defaultGraphCode(status: number): string {
	return DEFAULT_GRAPH_CODES[status] ?? 'UnknownError';
}

export function defaultEntraError(status: number): string {
	if (status === 401) return 'invalid_client';
	if (status === 400) return 'invalid_request';
	if (status === 429 || status >= 500) return 'temporarily_unavailable';
	return 'server_error';
}
