import { createServer, type AddressInfo, type Server } from 'node:net';

/** Ports this process (this test file's module registry) has listened on. */
const usedPorts = new Set<number>();

function listenOnce(server: Server, port: number, host: string): Promise<number> {
	return new Promise<number>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

function close(server: Server): Promise<void> {
	return new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Listens on an ephemeral port that no earlier server of this process had. Clients remember servers by
 * URL (the trigger caches the signing keys and the live subscription state per URL), so a new simulator
 * or harness on a port the system hands out again would meet what its predecessor left behind.
 */
export async function listenOnFreshPort(server: Server, host = '127.0.0.1'): Promise<number> {
	const placeholders: Server[] = [];
	try {
		for (let attempt = 0; attempt < 50; attempt++) {
			const port = await listenOnce(server, 0, host);
			if (!usedPorts.has(port)) {
				usedPorts.add(port);
				return port;
			}
			// Hold the reused port while asking again, so the system cannot hand it out a second time.
			await close(server);
			const placeholder = createServer();
			try {
				await listenOnce(placeholder, port, host);
				placeholders.push(placeholder);
			} catch {
				// Someone else took it in between: held all the same.
			}
		}
		throw new Error('no fresh port after 50 attempts');
	} finally {
		await Promise.all(placeholders.map(close));
	}
}
