'use strict';
/**
 * A private certificate authority for the test suite.
 *
 * The simulator serves real HTTPS, and the package code talks to it with Node's ordinary TLS stack
 * (fetch, https, MSAL). Rather than switching certificate checks off, the tests trust this CA through
 * NODE_EXTRA_CA_CERTS (set by test/run-jest.js), so the code under test runs exactly as in production.
 *
 * The CA is created once and kept in test/.generated (git-ignored): NODE_EXTRA_CA_CERTS is read when a
 * process starts, so every jest worker and every simulator must agree on the same CA files.
 */
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const forge = require('node-forge');

const DEFAULT_DIR = path.resolve(__dirname, '..', '.generated');
const BUNDLE_FILE = 'test-ca.json';
const CERT_FILE = 'test-ca-cert.pem';
const CA_VALIDITY_DAYS = 3650;
/** A CA closer than this to its end is replaced, so a long-lived checkout never starts failing mid-run. */
const MIN_REMAINING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

function randomSerial() {
	// Positive 16-byte serial: a leading 0 nibble keeps the DER integer positive.
	return '0' + crypto.randomBytes(16).toString('hex').slice(1);
}

function generateKeyPair() {
	// Node's generator is far faster than forge's pure-JS one; forge only builds the certificates.
	const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
	const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
	const forgePrivate = forge.pki.privateKeyFromPem(keyPem);
	const forgePublic = forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e);
	return { keyPem, forgePrivate, forgePublic };
}

function createCa() {
	const { keyPem, forgePrivate, forgePublic } = generateKeyPair();
	const cert = forge.pki.createCertificate();
	cert.publicKey = forgePublic;
	cert.serialNumber = randomSerial();
	cert.validity.notBefore = new Date(Date.now() - DAY_MS);
	cert.validity.notAfter = new Date(Date.now() + CA_VALIDITY_DAYS * DAY_MS);
	const subject = [
		{ name: 'commonName', value: 'n8n-nodes-teams-calls Test CA' },
		{ name: 'organizationName', value: 'n8n-nodes-teams-calls tests' },
	];
	cert.setSubject(subject);
	cert.setIssuer(subject);
	cert.setExtensions([
		{ name: 'basicConstraints', cA: true, critical: true },
		{ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
		{ name: 'subjectKeyIdentifier' },
	]);
	cert.sign(forgePrivate, forge.md.sha256.create());
	return { caCertPem: forge.pki.certificateToPem(cert), caKeyPem: keyPem };
}

/** True when the stored pair is a usable CA: parses, key matches, and not about to expire. */
function isUsable(bundle) {
	try {
		if (!bundle || typeof bundle.caCertPem !== 'string' || typeof bundle.caKeyPem !== 'string') return false;
		const cert = new crypto.X509Certificate(bundle.caCertPem);
		if (!cert.ca) return false;
		if (Date.parse(cert.validTo) - Date.now() < MIN_REMAINING_DAYS * DAY_MS) return false;
		return cert.checkPrivateKey(crypto.createPrivateKey(bundle.caKeyPem));
	} catch {
		return false;
	}
}

/** Write via a temp file + rename so a concurrent reader never sees half a file. */
function writeAtomic(file, content) {
	const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
	fs.writeFileSync(tmp, content, { mode: 0o600 });
	fs.renameSync(tmp, file);
}

function readBundle(file) {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8'));
	} catch {
		return undefined;
	}
}

/**
 * Returns the test CA, creating it on first use. Cert and key live together in one JSON file (written
 * atomically, so they can never mismatch); the cert alone is also written as PEM for NODE_EXTRA_CA_CERTS.
 * @param {string} [dir]
 * @returns {{ caCertPem: string, caKeyPem: string, caCertPath: string }}
 */
function ensureTestCa(dir = DEFAULT_DIR) {
	fs.mkdirSync(dir, { recursive: true });
	const bundlePath = path.join(dir, BUNDLE_FILE);
	const caCertPath = path.join(dir, CERT_FILE);
	let bundle = readBundle(bundlePath);
	if (!isUsable(bundle)) {
		bundle = createCa();
		writeAtomic(bundlePath, JSON.stringify(bundle));
		// Another process may have raced us; whatever landed last is the CA everyone uses.
		bundle = readBundle(bundlePath);
	}
	let currentPem;
	try {
		currentPem = fs.readFileSync(caCertPath, 'utf8');
	} catch {
		currentPem = undefined;
	}
	if (currentPem !== bundle.caCertPem) writeAtomic(caCertPath, bundle.caCertPem);
	return { caCertPem: bundle.caCertPem, caKeyPem: bundle.caKeyPem, caCertPath };
}

function isIpAddress(value) {
	return /^\d{1,3}(\.\d{1,3}){3}$/.test(value) || value.includes(':');
}

/**
 * Issues a TLS server certificate signed by the CA, valid for the given DNS names and IP addresses.
 * @param {{ caCertPem: string, caKeyPem: string }} ca
 * @param {string[]} [hostnames]
 * @returns {{ certPem: string, keyPem: string }}
 */
function issueServerCertificate(ca, hostnames = ['localhost', '127.0.0.1']) {
	if (!hostnames.length) throw new Error('issueServerCertificate needs at least one host name');
	const caCert = forge.pki.certificateFromPem(ca.caCertPem);
	const caKey = forge.pki.privateKeyFromPem(ca.caKeyPem);
	const { keyPem, forgePublic } = generateKeyPair();
	const cert = forge.pki.createCertificate();
	cert.publicKey = forgePublic;
	cert.serialNumber = randomSerial();
	cert.validity.notBefore = new Date(Date.now() - DAY_MS);
	// Under 398 days: the longest validity TLS clients accept for server certificates.
	cert.validity.notAfter = new Date(Date.now() + 365 * DAY_MS);
	cert.setSubject([{ name: 'commonName', value: hostnames[0] }]);
	cert.setIssuer(caCert.subject.attributes);
	cert.setExtensions([
		{ name: 'basicConstraints', cA: false, critical: true },
		{ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
		{ name: 'extKeyUsage', serverAuth: true },
		{
			name: 'subjectAltName',
			altNames: hostnames.map((h) => (isIpAddress(h) ? { type: 7, ip: h } : { type: 2, value: h })),
		},
		{ name: 'subjectKeyIdentifier' },
		{ name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
	]);
	cert.sign(caKey, forge.md.sha256.create());
	return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

module.exports = { ensureTestCa, issueServerCertificate, DEFAULT_DIR };
