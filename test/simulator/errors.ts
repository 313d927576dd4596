import { newGuid } from './ids';

/**
 * The two error envelopes the simulator speaks. Package code maps these to user messages, so their
 * shape must match the real services: Entra's flat OAuth error with AADSTS codes, and Graph's nested
 * OData error with innerError ids.
 */
export interface EntraErrorBody {
	error: string;
	error_description: string;
	error_codes: number[];
	timestamp: string;
	trace_id: string;
	correlation_id: string;
	error_uri?: string;
}

export interface GraphErrorBody {
	error: {
		code: string;
		message: string;
		innerError: { date: string; 'request-id': string; 'client-request-id': string };
	};
}

/** Entra's description starts "AADSTS<code>: <message>" and ends with the trace/correlation/timestamp line. */
export function entraError(
	error: string,
	aadsts: number | undefined,
	message: string,
	correlationId: string = newGuid(),
): EntraErrorBody {
	const traceId = newGuid();
	const now = new Date();
	const timestamp = now.toISOString().replace('T', ' ').replace(/\.(\d{3})Z$/, 'Z');
	const prefix = aadsts === undefined ? '' : `AADSTS${aadsts}: `;
	return {
		error,
		error_description: `${prefix}${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
		error_codes: aadsts === undefined ? [] : [aadsts],
		timestamp,
		trace_id: traceId,
		correlation_id: correlationId,
		...(aadsts === undefined ? {} : { error_uri: `https://login.microsoftonline.com/error?code=${aadsts}` }),
	};
}

export function graphError(code: string, message: string, requestId: string, clientRequestId: string): GraphErrorBody {
	return {
		error: {
			code,
			message,
			innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId },
		},
	};
}

/** Thrown by Graph handlers to answer with a Graph error; the router turns it into the response. */
export class GraphHttpError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}
}

/** Thrown by login handlers to answer with an Entra OAuth error. */
export class EntraHttpError extends Error {
	constructor(
		readonly status: number,
		readonly error: string,
		readonly aadsts: number | undefined,
		message: string,
	) {
		super(message);
	}
}
