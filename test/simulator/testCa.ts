/**
 * Typed access to test/support/test-ca.js. That file stays plain CommonJS because test/run-jest.js needs
 * it before any TypeScript tooling runs; this wrapper gives the TS side types without allowJs.
 */
export interface TestCa {
	caCertPem: string;
	caKeyPem: string;
	caCertPath: string;
}

export interface ServerCertificate {
	certPem: string;
	keyPem: string;
}

interface TestCaModule {
	ensureTestCa(dir?: string): TestCa;
	issueServerCertificate(ca: Pick<TestCa, 'caCertPem' | 'caKeyPem'>, hostnames?: string[]): ServerCertificate;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const testCaModule = require('../support/test-ca') as TestCaModule;

export const ensureTestCa: TestCaModule['ensureTestCa'] = (dir) => testCaModule.ensureTestCa(dir);
export const issueServerCertificate: TestCaModule['issueServerCertificate'] = (ca, hostnames) =>
	testCaModule.issueServerCertificate(ca, hostnames);

const serverCertificates = new Map<string, ServerCertificate>();

/**
 * One server certificate per host-name set per process: issuing means an RSA key generation, and a test
 * file may start many simulators and webhook receivers.
 */
export function cachedServerCertificate(hostnames: string[] = ['localhost', '127.0.0.1'], dir?: string): ServerCertificate {
	const ca = ensureTestCa(dir);
	const key = `${ca.caCertPath}|${hostnames.join(',')}`;
	let cert = serverCertificates.get(key);
	if (!cert) {
		cert = issueServerCertificate(ca, hostnames);
		serverCertificates.set(key, cert);
	}
	return cert;
}
