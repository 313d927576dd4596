#!/usr/bin/env node
'use strict';
/**
 * `npm test` entry point: makes sure the test CA exists, then runs jest with
 *  - NODE_EXTRA_CA_CERTS = the test CA, so fetch/https/MSAL/n8n helpers trust the local HTTPS simulator
 *    without any code path switching certificate checks off (Node reads this only at start-up, hence a
 *    child process rather than setting it from inside jest);
 *  - N8N_USER_FOLDER = a fresh temp folder, because n8n-core writes a config file there on first require
 *    and must not touch the developer's ~/.n8n.
 * Arguments are passed through to jest unchanged; the exit code is jest's.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ensureTestCa } = require('./support/test-ca');

const repoRoot = path.resolve(__dirname, '..');
const { caCertPath } = ensureTestCa();
const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-teams-calls-test-'));
// Jest's own summary is not a format CI reads; its JSON report gives the counts for a plain closing line.
const reportPath = path.join(userFolder, 'jest-report.json');

const child = spawn(
	process.execPath,
	[
		path.join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js'),
		...process.argv.slice(2),
		'--json',
		`--outputFile=${reportPath}`,
	],
	{
		cwd: repoRoot,
		stdio: 'inherit',
		env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath, N8N_USER_FOLDER: userFolder },
	},
);

function printSummary() {
	try {
		const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
		const skipped = report.numPendingTests + report.numTodoTests;
		// A test file that does not compile or crashes on load runs no test, so it shows in no test count.
		const broken = report.numRuntimeErrorTestSuites
			? `, ${report.numRuntimeErrorTestSuites} test file${report.numRuntimeErrorTestSuites === 1 ? '' : 's'} could not run`
			: '';
		console.log(`jest: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped${broken}`);
	} catch {
		// No report (jest did not start or crashed): the exit code speaks.
	}
}

function cleanUp() {
	printSummary();
	fs.rmSync(userFolder, { recursive: true, force: true });
}

// Forward Ctrl-C / termination to jest so it can close its servers, then exit with its status.
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => child.kill(signal));
}

child.on('exit', (code, signal) => {
	cleanUp();
	if (signal) {
		// Die the same way jest did, without our forwarding handler intercepting it.
		process.removeAllListeners(signal);
		process.kill(process.pid, signal);
		return;
	}
	process.exit(code ?? 1);
});
child.on('error', (error) => {
	cleanUp();
	console.error(`Could not start jest: ${error.message}`);
	process.exit(1);
});
