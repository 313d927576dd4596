import http, { createServer, type Server } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';

import { forgetGraphClients } from '../../lib/auth/graphTokenProvider';
import { testAppCredential } from '../../lib/credentials/testCredentials';
import { startGraphSimulator, type GraphSimulator } from '../simulator';

/** What n8n's main process runs at start-up (BaseCommand.installOutboundProxyAgents). */
const requireFromCore = createRequire(require.resolve('n8n-core'));
const { installGlobalProxyAgent } = requireFromCore('@n8n/backend-network') as { installGlobalProxyAgent: () => void };
const originalAgents = { http: http.globalAgent, https: https.globalAgent };

const TENANT = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f8';
const APP = '33333333-aaaa-4bbb-8ccc-000000000001';
const SECRET = 'Rq8~proxy.secret-value_0123456789abc';
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

let sim: GraphSimulator;
let proxy: Server;
let proxyUrl = '';
const tunnels: string[] = [];
const openSockets = new Set<Socket>();
const savedEnvironment: Record<string, string | undefined> = {};

/** A loopback forward proxy that only tunnels (CONNECT), as corporate proxies do for HTTPS. */
function startConnectProxy(): Promise<Server> {
	const server = createServer((_req, res) => res.writeHead(405).end());
	server.on('connect', (req, clientSocket, head) => {
		tunnels.push(String(req.url));
		const [host, port] = String(req.url).split(':');
		const upstream = connect(Number(port), host, () => {
			clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(clientSocket);
			clientSocket.pipe(upstream);
		});
		for (const socket of [upstream, clientSocket as Socket]) {
			openSockets.add(socket);
			socket.on('close', () => openSockets.delete(socket));
		}
		upstream.on('error', () => clientSocket.destroy());
		clientSocket.on('error', () => upstream.destroy());
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
	sim = await startGraphSimulator();
	sim.registerTenant(TENANT);
	sim.registerApp({ tenantId: TENANT, clientId: APP, secrets: [{ value: SECRET }], permissions: ['CallEvents.Read.All'] });
	proxy = await startConnectProxy();
	const address = proxy.address() as { port: number };
	proxyUrl = `http://127.0.0.1:${address.port}`;
	for (const name of PROXY_VARIABLES) {
		savedEnvironment[name] = process.env[name];
		delete process.env[name];
	}
});
afterAll(async () => {
	for (const agent of [http.globalAgent, https.globalAgent]) if (!Object.values(originalAgents).includes(agent)) agent.destroy();
	http.globalAgent = originalAgents.http;
	https.globalAgent = originalAgents.https;
	for (const name of PROXY_VARIABLES) {
		if (savedEnvironment[name] === undefined) delete process.env[name];
		else process.env[name] = savedEnvironment[name];
	}
	for (const socket of openSockets) socket.destroy();
	proxy.closeAllConnections();
	await new Promise((resolve) => proxy.close(resolve));
	await sim.close();
});
beforeEach(() => {
	forgetGraphClients();
	tunnels.length = 0;
});

const credential = () => ({
	cloud: 'custom',
	customLoginHost: sim.loginBaseUrl,
	customGraphBaseUrl: sim.graphBaseUrl,
	tenantId: TENANT,
	clientId: APP,
	authentication: 'clientSecret',
	clientSecret: SECRET,
});

describe('token requests behind a proxy, as n8n configures it from HTTPS_PROXY and NO_PROXY', () => {
	it('go through HTTPS_PROXY', async () => {
		process.env.HTTPS_PROXY = proxyUrl;
		installGlobalProxyAgent();
		const result = await testAppCredential(credential());
		expect(result.status).toBe('OK');
		const loginHost = new URL(sim.loginBaseUrl).host;
		expect(tunnels).toContain(loginHost);
		expect(sim.findRequests({ host: 'login', clientId: APP }).pop()?.status).toBe(200);
	});

	it('skip the proxy for a host in NO_PROXY', async () => {
		process.env.HTTPS_PROXY = proxyUrl;
		process.env.NO_PROXY = new URL(sim.loginBaseUrl).hostname;
		installGlobalProxyAgent();
		const result = await testAppCredential(credential());
		expect(result.status).toBe('OK');
		expect(tunnels).toEqual([]);
	});

	it('explain a proxy that refuses the tunnel as a network problem', async () => {
		process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
		delete process.env.NO_PROXY;
		installGlobalProxyAgent();
		const result = await testAppCredential(credential());
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/Could not reach the login host .*the network or proxy between n8n and that host/);
	});
});
