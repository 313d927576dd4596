import { createServer, type Server } from 'https';
import type { IncomingMessage, ServerResponse } from 'http';

import { listenOnFreshPort } from './freshPort';

/**
 * An HTTPS listener on 127.0.0.1 with an ephemeral port not used before in this process. close() also
 * ends keep-alive connections, so a test file that closes its servers leaves no open handles behind.
 */
export interface TlsListener {
	server: Server;
	port: number;
	/** https://localhost:PORT, the name the certificate is issued for. */
	baseUrl: string;
	close(): Promise<void>;
}

export async function listenTls(
	credentials: { certPem: string; keyPem: string },
	handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TlsListener> {
	const server = createServer({ cert: credentials.certPem, key: credentials.keyPem }, handler);
	// Node's own idle time (5 s): Node clients keep a socket for the server's announced `Keep-Alive: timeout`
	// minus 1 s, so a shorter one would forbid reuse. close() ends kept-alive sockets, so none outlives a test.
	server.keepAliveTimeout = 5000;
	const port = await listenOnFreshPort(server);
	let closed: Promise<void> | undefined;
	return {
		server,
		port,
		baseUrl: `https://localhost:${port}`,
		close() {
			closed ??= new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			return closed;
		},
	};
}
