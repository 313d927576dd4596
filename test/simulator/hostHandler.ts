import type { IncomingMessage, ServerResponse } from 'http';
import type { FaultInjector, ActiveFault } from './faults';
import type { HostKind, RequestLog } from './requestLog';
import { queryToRecord, sleep } from './httpIo';

/**
 * The part both hosts share: parse the URL, log the request with its final status, apply injected faults,
 * and turn any handler exception into a 500 so the simulator never crashes mid-test.
 */
export interface RequestContext {
	method: string;
	url: URL;
	path: string;
	/** Set by handlers so the log can attribute the request to an app. */
	clientId?: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;

export interface HostHandlerOptions {
	kind: HostKind;
	log: RequestLog;
	faults: FaultInjector;
	route: RouteHandler;
	/** Writes an injected fault in this host's error shape. */
	renderFault: (res: ServerResponse, fault: ActiveFault, ctx: RequestContext) => void;
	/** Writes an unexpected exception in this host's error shape. */
	renderCrash: (res: ServerResponse, error: unknown, ctx: RequestContext) => void;
}

export function createHostHandler(options: HostHandlerOptions) {
	return (req: IncomingMessage, res: ServerResponse): void => {
		const method = (req.method ?? 'GET').toUpperCase();
		const url = new URL(req.url ?? '/', 'https://simulator.invalid');
		const ctx: RequestContext = { method, url, path: decodeURIComponentSafe(url.pathname) };
		const time = Date.now();
		let fault: ActiveFault | undefined;
		let logged = false;
		const record = (status: number) => {
			if (logged) return;
			logged = true;
			options.log.add({
				method,
				host: options.kind,
				path: ctx.path,
				query: queryToRecord(url.searchParams),
				status,
				time,
				fault: fault !== undefined,
				clientId: ctx.clientId,
			});
		};
		res.on('finish', () => record(res.statusCode));
		res.on('close', () => record(res.writableFinished ? res.statusCode : fault?.status ?? 0));
		req.on('error', () => undefined);

		void (async () => {
			try {
				fault = options.faults.take(options.kind, method, ctx.path);
				if (fault) {
					// Drain the body so the client sees a clean answer rather than a reset.
					req.resume();
					if (fault.delayMs) await sleep(fault.delayMs);
					if (fault.dropConnection) {
						req.socket.destroy();
						return;
					}
					options.renderFault(res, fault, ctx);
					return;
				}
				await options.route(req, res, ctx);
			} catch (error) {
				options.renderCrash(res, error, ctx);
			}
		})().catch(() => {
			// Even the error page failed: drop the connection rather than let a rejection kill the test run.
			res.destroy();
		});
	};
}

function decodeURIComponentSafe(path: string): string {
	try {
		return decodeURIComponent(path);
	} catch {
		return path;
	}
}
