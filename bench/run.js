#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: compiles bench/*.ts (and the lib/, nodes/, test/support and test/simulator sources they
 * import) with the project's TypeScript into .cache/bench (git-ignored), then runs the benchmark in a child
 * Node with --expose-gc, NODE_EXTRA_CA_CERTS = the test CA (so the code under test trusts the local HTTPS
 * simulator exactly as in the test suite) and N8N_USER_FOLDER = a fresh temporary folder.
 *
 * Arguments are passed through: `npm run bench -- --quick` (fewer repetitions), `--runs=N` (part 1 pairs), `--only=1,2` (parts; part 8 is call records),
 * `--out=bench/results.json`, `--e2e` (adds part 5: a real n8n; needs `npm run build` first, and installs n8n
 * into .cache/n8n-e2e on first use, about 2.9 GB — see test/e2e/README.md), `--queue` (adds part 7: queue mode, Postgres,
 * Redis, a main, a webhook process and a worker; also needs `npm run build`).
 */
const { spawnSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..');
const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
console.error('bench: compiling bench/ with tsc into .cache/bench …');
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], {
	cwd: repoRoot,
	stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
if (process.argv.includes('--e2e') || process.argv.includes('--queue')) {
	console.error('bench: compiling parts 5 and 7 (bench/e2e.ts, bench/queue.ts and the test/e2e harness) …');
	const e2e = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.e2e.json')], { cwd: repoRoot, stdio: 'inherit' });
	if (e2e.status !== 0) process.exit(e2e.status ?? 1);
}
// Plain-JS helpers under test/ (test/support/test-ca.js, test/e2e/n8nSupervisor.js, …) are not compiled and find
// their files from their own location: the compiled code reaches each original through a one-line shim.
for (const entry of fs.readdirSync(path.join(repoRoot, 'test'), { recursive: true })) {
	const relative = String(entry);
	if (!relative.endsWith('.js') || relative.startsWith('.generated')) continue;
	const shim = path.join(repoRoot, '.cache', 'bench', 'test', relative);
	fs.mkdirSync(path.dirname(shim), { recursive: true });
	fs.writeFileSync(shim, `module.exports = require(${JSON.stringify(path.join(repoRoot, 'test', relative))});\n`);
}

const { ensureTestCa } = require(path.join(repoRoot, 'test', 'support', 'test-ca'));
const { caCertPath } = ensureTestCa();
const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-teams-calls-bench-'));

const child = spawn(
	process.execPath,
	['--expose-gc', path.join(repoRoot, '.cache', 'bench', 'bench', 'main.js'), ...process.argv.slice(2)],
	{
		cwd: repoRoot,
		stdio: 'inherit',
		env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath, N8N_USER_FOLDER: userFolder },
	},
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
	fs.rmSync(userFolder, { recursive: true, force: true });
	if (signal) {
		process.removeAllListeners(signal);
		process.kill(process.pid, signal);
		return;
	}
	process.exit(code ?? 1);
});
