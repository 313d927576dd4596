import { request } from 'https';
import { X509Certificate } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { startGraphSimulator, type GraphSimulator } from './index';
import { ensureTestCa, issueServerCertificate } from './testCa';

/**
 * The whole integration suite relies on NODE_EXTRA_CA_CERTS (set by test/run-jest.js) making Node trust
 * the simulator with no `ca` option anywhere in the code under test. Prove it for fetch and https.
 */
describe('test CA trust', () => {
	let sim: GraphSimulator;
	beforeAll(async () => {
		sim = await startGraphSimulator();
	});
	afterAll(async () => {
		await sim.close();
	});

	it('is provided by run-jest.js', () => {
		expect(process.env.NODE_EXTRA_CA_CERTS).toBe(ensureTestCa().caCertPath);
		expect(process.env.N8N_USER_FOLDER).toBeTruthy();
	});

	it('lets global fetch reach the simulator without a CA option', async () => {
		const res = await fetch(`${sim.loginBaseUrl}/common/discovery/v2.0/keys`);
		expect(res.status).toBe(200);
		const body = (await res.json()) as { keys: unknown[] };
		expect(body.keys.length).toBeGreaterThan(0);
	});

	it('lets https.request reach the simulator without a CA option', async () => {
		const status = await new Promise<number>((resolve, reject) => {
			const req = request(`${sim.graphBaseUrl}/v1.0/subscriptions`, { agent: false }, (res) => {
				res.resume();
				res.on('end', () => resolve(res.statusCode ?? 0));
			});
			req.on('error', reject);
			req.end();
		});
		expect(status).toBe(401);
	});

	it('serves a certificate for localhost and 127.0.0.1 signed by the test CA, reused across calls', () => {
		const ca = ensureTestCa();
		expect(ensureTestCa().caCertPem).toBe(ca.caCertPem);
		const server = new X509Certificate(issueServerCertificate(ca, ['localhost', '127.0.0.1']).certPem);
		expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
		expect(server.verify(new X509Certificate(ca.caCertPem).publicKey)).toBe(true);
		expect(sim.caCertPem).toBe(ca.caCertPem);
	});

	it('creates a CA once, reuses it, and replaces a damaged one', () => {
		const dir = mkdtempSync(join(tmpdir(), 'test-ca-'));
		try {
			const first = ensureTestCa(dir);
			expect(new X509Certificate(first.caCertPem).ca).toBe(true);
			expect(readFileSync(first.caCertPath, 'utf8')).toBe(first.caCertPem);
			expect(ensureTestCa(dir).caKeyPem).toBe(first.caKeyPem);
			writeFileSync(join(dir, 'test-ca.json'), '{"caCertPem": "garbage"}');
			const second = ensureTestCa(dir);
			expect(second.caCertPem).not.toBe(first.caCertPem);
			expect(readFileSync(second.caCertPath, 'utf8')).toBe(second.caCertPem);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('also answers on 127.0.0.1', async () => {
		const res = await fetch(sim.graphBaseUrl.replace('localhost', '127.0.0.1') + '/v1.0/users/x');
		expect(res.status).toBe(401);
	});
});
