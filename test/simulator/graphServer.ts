import type { IncomingMessage, ServerResponse } from 'http';
import type { AccessTokenAuthority, AccessTokenClaims } from './accessTokens';
import type { Directory } from './directory';
import { GraphHttpError, graphError } from './errors';
import { defaultGraphCode, type FaultInjector } from './faults';
import { createHostHandler, type RequestContext } from './hostHandler';
import { newGuid } from './ids';
import { BodyTooLargeError, readBody, sendEmpty, sendJson } from './httpIo';
import type { RequestLog } from './requestLog';
import {
	createSubscription,
	deleteSubscription,
	getSubscription,
	listSubscriptions,
	reauthorizeSubscription,
	updateSubscription,
	type ApiResult,
	type SubscriptionsApiDeps,
} from './subscriptionsApi';
import { getUser } from './usersApi';
import { listCallRecords } from './callRecordList';
import { getCallRecord, listCallRecordParticipants, listCallRecordSessions, timedRead, type CallRecordsApiDeps } from './callRecords';
import type { CallRecordThrottle } from './callRecordThrottling';

/**
 * The Graph host (stand-in for graph.microsoft.com): bearer-token check, /{v1.0|beta} routing, JSON body
 * parsing, Graph error envelope and request-id headers on every answer.
 */
export interface GraphServerDeps {
	log: RequestLog;
	faults: FaultInjector;
	tokens: AccessTokenAuthority;
	directory: Directory;
	subscriptions: SubscriptionsApiDeps;
	callRecords: CallRecordsApiDeps;
	/** Graph's call-record throttling limits; absent: unlimited. */
	callRecordThrottle?: CallRecordThrottle;
}

const GRAPH_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const VERSIONS = ['v1.0', 'beta'];

export function createGraphHandler(deps: GraphServerDeps) {
	return createHostHandler({
		kind: 'graph',
		log: deps.log,
		faults: deps.faults,
		route: async (req, res, ctx) => {
			const ids = requestIds(req);
			try {
				const result = await route(req, ctx, deps);
				if (result.body === undefined) sendEmpty(res, result.status, ids.headers);
				else sendJson(res, result.status, result.body, ids.headers, GRAPH_CONTENT_TYPE);
			} catch (error) {
				if (error instanceof GraphHttpError) {
					sendGraphError(res, error.status, error.code, error.message, ids, error.headers);
				} else if (error instanceof BodyTooLargeError) {
					sendGraphError(res, 413, 'RequestEntityTooLarge', error.message, ids);
				} else {
					throw error;
				}
			}
		},
		renderFault: (res, fault, ctx) => {
			const headers: Record<string, string> = {};
			if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
			const message = fault.message ?? `Injected fault for ${ctx.method} ${ctx.path}.`;
			sendGraphError(res, fault.status, fault.code ?? defaultGraphCode(fault.status), message, requestIds(res.req), headers);
		},
		renderCrash: (res, error) => {
			sendGraphError(res, 500, 'InternalServerError', `Simulator error: ${String(error)}`, requestIds(res.req));
		},
	});
}

interface RequestIds {
	requestId: string;
	clientRequestId: string;
	headers: Record<string, string>;
}

function requestIds(req: IncomingMessage): RequestIds {
	const requestId = newGuid();
	const sent = req.headers['client-request-id'];
	const clientRequestId = typeof sent === 'string' && sent ? sent : requestId;
	return { requestId, clientRequestId, headers: { 'request-id': requestId, 'client-request-id': clientRequestId } };
}

function sendGraphError(
	res: ServerResponse,
	status: number,
	code: string,
	message: string,
	ids: RequestIds,
	extraHeaders: Record<string, string> = {},
): void {
	sendJson(res, status, graphError(code, message, ids.requestId, ids.clientRequestId), { ...ids.headers, ...extraHeaders }, GRAPH_CONTENT_TYPE);
}

function authenticate(req: IncomingMessage, ctx: RequestContext, tokens: AccessTokenAuthority): AccessTokenClaims {
	const header = req.headers.authorization ?? '';
	const match = /^Bearer\s+(\S+)$/i.exec(header);
	if (!match) throw new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
	const claims = tokens.verify(match[1]);
	if (typeof claims === 'string') throw new GraphHttpError(401, 'InvalidAuthenticationToken', claims);
	ctx.clientId = claims.appid;
	return claims;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	const text = await readBody(req);
	if (text.trim() === '') return {};
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		throw new GraphHttpError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw new GraphHttpError(400, 'BadRequest', 'The request payload must be a JSON object.');
	}
	return parsed as Record<string, unknown>;
}

async function route(req: IncomingMessage, ctx: RequestContext, deps: GraphServerDeps): Promise<ApiResult> {
	const [version, ...segments] = ctx.path.split('/').filter(Boolean);
	if (!version || !VERSIONS.includes(version)) {
		throw new GraphHttpError(400, 'BadRequest', `Invalid version: ${version ?? ''}`);
	}
	// Graph authenticates before it looks at the route.
	const caller = authenticate(req, ctx, deps.tokens);
	const m = ctx.method;
	const [collection, id, action, ...more] = segments;
	const api = deps.subscriptions;
	if (collection === 'communications' && id === 'callRecords' && m === 'GET') {
		deps.callRecordThrottle?.admit(caller.appid, caller.tid, action ? { record: action } : 'listing');
	}

	if (collection === 'users' && id && !action && m === 'GET') {
		return getUser(id, ctx.url.searchParams.get('$select'), caller, version, deps.directory, api.graphBaseUrl());
	}
	if (collection === 'communications' && id === 'callRecords' && !action && m === 'GET') {
		return listCallRecords(req, ctx.url.searchParams, caller, version, deps.callRecords);
	}
	if (collection === 'communications' && id === 'callRecords' && action && m === 'GET') {
		if (more.length === 0) {
			return timedRead(deps.callRecords, () => getCallRecord(action, ctx.url.searchParams, caller, version, deps.callRecords));
		}
		if (more.length === 1 && more[0] === 'participants_v2') {
			return listCallRecordParticipants(action, ctx.url.searchParams, caller, version, deps.callRecords);
		}
		if (more.length === 1 && more[0] === 'sessions') {
			return listCallRecordSessions(action, ctx.url.searchParams, caller, version, deps.callRecords);
		}
	}
	if (collection === 'subscriptions' && more.length === 0) {
		if (!id && m === 'POST') return createSubscription(await readJson(req), caller, version, api);
		if (!id && m === 'GET') return listSubscriptions(caller, version, ctx.url.searchParams.get('$skiptoken'), api);
		if (id && !action && m === 'GET') return getSubscription(id, caller, version, api);
		if (id && !action && m === 'PATCH') return updateSubscription(id, await readJson(req), caller, version, api);
		if (id && !action && m === 'DELETE') return deleteSubscription(id, caller, api);
		if (id && action === 'reauthorize' && m === 'POST') return reauthorizeSubscription(id, caller, api);
		throw new GraphHttpError(405, 'Request_BadRequest', `The HTTP method '${m}' is not allowed for ${ctx.path}.`);
	}
	throw new GraphHttpError(400, 'BadRequest', `Resource not found for the segment '${collection ?? ''}'.`);
}
