/**
 * A real n8n (from scripts/ensure-n8n.js) run as a child process: own user folder, SQLite, HTTPS with a
 * certificate from the test CA, the built package loaded through N8N_CUSTOM_EXTENSIONS.
 *
 * Every process is started in its own process group and stopped by PID (the group, so n8n's task
 * runner goes too). A process-exit hook kills whatever is still running if jest dies or a test throws
 * past afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { createServer } from 'node:net';
import path from 'node:path';

/** The package root, found from here (works from test/e2e and from a compiled copy under .cache/). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
	for (let dir = from; ; dir = path.dirname(dir)) {
		try {
			if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'n8n-nodes-teams-calls') return dir;
		} catch {
			/* keep looking */
		}
		if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
	}
}

export interface N8nPaths {
	nodeBin: string;
	nodeBinDir: string;
	n8nBin: string;
	cacheDir: string;
	nodeVersion: string;
	n8nVersion: string;
}

let cachedPaths: N8nPaths | undefined;

/** Runs scripts/ensure-n8n.js (installs on first use, about 5 minutes) and returns the binaries. */
export function ensureN8n(): N8nPaths {
	if (cachedPaths) return cachedPaths;
	const script = path.join(REPO_ROOT, 'scripts', 'ensure-n8n.js');
	const result = spawnSync(process.execPath, [script, '--json'], {
		cwd: REPO_ROOT,
		// Progress goes to stderr and shows in the jest output; stdout carries the JSON answer.
		stdio: ['ignore', 'pipe', 'inherit'],
		encoding: 'utf8',
		timeout: 30 * 60_000,
	});
	if (result.status !== 0) {
		throw new Error(`scripts/ensure-n8n.js failed (exit ${result.status}); see its output above`);
	}
	const lastLine = result.stdout.trim().split('\n').pop() ?? '';
	cachedPaths = JSON.parse(lastLine) as N8nPaths;
	return cachedPaths;
}

/** The package must be built first (`npm run build`); the harness never builds. */
export function requireBuiltPackage(): string {
	const dist = path.join(REPO_ROOT, 'dist');
	const node = path.join(dist, 'nodes', 'MicrosoftTeamsCallTrigger', 'MicrosoftTeamsCallTrigger.node.js');
	if (!existsSync(node)) {
		throw new Error(`${node} is missing: run \`npm run build\` before \`npm run test:e2e\``);
	}
	return dist;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

const running = new Set<ChildProcess>();

/** Signals the child's process group; `evenIfExited` also reaches group members left after the leader died. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals, evenIfExited = false): void {
	if (child.pid === undefined) return;
	if (!evenIfExited && (child.exitCode !== null || child.signalCode !== null)) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			/* already gone */
		}
	}
}

// Best effort on a normal exit. Jest hands tests a sandboxed `process` whose 'exit' and signal events
// may never fire, so the real guarantee is n8nSupervisor.js, which watches this process's PID.
process.on('exit', () => {
	for (const child of running) killGroup(child, 'SIGKILL', true);
});

/** Next to this file, or in the repository when this file is a compiled copy (demo, bench). */
function supervisorPath(): string {
	const candidates = [path.join(__dirname, 'n8nSupervisor.js'), path.join(REPO_ROOT, 'test', 'e2e', 'n8nSupervisor.js')];
	const found = candidates.find((candidate) => existsSync(candidate));
	if (!found) throw new Error(`n8nSupervisor.js not found (looked in ${candidates.join(', ')})`);
	return found;
}

export interface N8nProcessOptions {
	paths: N8nPaths;
	/** Folder for .n8n (SQLite, config) and logs. */
	userFolder: string;
	port: number;
	brokerPort: number;
	tls: { certPath: string; keyPath: string; caPath: string; caPem: string };
	customExtensions: string;
	encryptionKey: string;
	extraEnv?: Record<string, string>;
	/** The n8n command: `start` (default), or `webhook` / `worker` for queue mode. */
	command?: 'start' | 'webhook' | 'worker';
	/** Where readiness is probed; default `<baseUrl>/healthz/readiness` (a worker's is plain HTTP on its own port). */
	readinessUrl?: string;
}

export function httpsGet(url: string, ca: string, timeoutMs = 3000): Promise<{ status: number; text: string }> {
	return new Promise((resolve, reject) => {
		const req = request(url, { method: 'GET', ca, timeout: timeoutMs }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (text += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		req.end();
	});
}

/** GET over HTTPS (trusting `ca`) or plain HTTP, by the URL's scheme. */
function probe(url: string, ca: string, timeoutMs: number): Promise<{ status: number; text: string }> {
	if (url.startsWith('https:')) return httpsGet(url, ca, timeoutMs);
	return new Promise((resolve, reject) => {
		const req = httpRequest(url, { method: 'GET', timeout: timeoutMs }, (res) => {
			res.resume();
			res.on('end', () => resolve({ status: res.statusCode ?? 0, text: '' }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		req.end();
	});
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class N8nProcess {
	private child: ChildProcess | undefined;
	private exited: Promise<void> | undefined;
	private starts = 0;
	readonly baseUrl: string;
	/** Wall-clock time at which the last start became ready. */
	readyAt = 0;

	constructor(readonly options: N8nProcessOptions) {
		this.baseUrl = `https://localhost:${options.port}`;
		mkdirSync(options.userFolder, { recursive: true });
	}

	/** PID of the process-group leader (the supervisor; n8n is its child in the same group). */
	get pid(): number | undefined {
		return this.child?.pid;
	}

	get isRunning(): boolean {
		return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
	}

	logPath(start = this.starts): string {
		return path.join(this.options.userFolder, `n8n-${start}.log`);
	}

	/** All log files of this instance, concatenated. */
	logs(): string {
		let text = '';
		for (let i = 1; i <= this.starts; i++) {
			if (existsSync(this.logPath(i))) text += `--- start ${i} ---\n${readFileSync(this.logPath(i), 'utf8')}`;
		}
		return text;
	}

	env(): NodeJS.ProcessEnv {
		const { paths, userFolder, port, brokerPort, tls, customExtensions, encryptionKey } = this.options;
		// N8N_TEAMS_CALLS_DECRYPT_THREADS: lets a benchmark compare the trigger's thread settings in a real n8n.
		// (n8n's own settings come through extraEnv.)
		const keep = ['HOME', 'LANG', 'TMPDIR', 'TZ', 'N8N_TEAMS_CALLS_DECRYPT_THREADS'];
		const base: NodeJS.ProcessEnv = {};
		for (const key of keep) if (process.env[key] !== undefined) base[key] = process.env[key];
		return {
			...base,
			PATH: `${paths.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
			NODE_ENV: 'production',
			N8N_USER_FOLDER: userFolder,
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: 'localhost',
			N8N_PORT: String(port),
			N8N_PROTOCOL: 'https',
			N8N_SSL_KEY: tls.keyPath,
			N8N_SSL_CERT: tls.certPath,
			N8N_WEBHOOK_URL: `https://localhost:${port}/`,
			N8N_EDITOR_BASE_URL: `https://localhost:${port}/`,
			NODE_EXTRA_CA_CERTS: tls.caPath,
			N8N_CUSTOM_EXTENSIONS: customExtensions,
			N8N_ENCRYPTION_KEY: encryptionKey,
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			N8N_PUBLIC_API_SWAGGERUI_DISABLED: 'true',
			N8N_LOG_LEVEL: process.env.N8N_E2E_LOG_LEVEL ?? 'debug',
			N8N_LOG_OUTPUT: 'console',
			DB_TYPE: 'sqlite',
			...this.options.extraEnv,
		};
	}

	/** Starts n8n and waits until /healthz/readiness answers 200. */
	async start(timeoutMs = 180_000): Promise<void> {
		if (this.isRunning) throw new Error('n8n is already running');
		this.starts++;
		const logFd = openSync(this.logPath(), 'a');
		const startedAt = Date.now();
		// Through the supervisor: it stops n8n if this process goes away without stopping it.
		const supervisor = supervisorPath();
		const child = spawn(this.options.paths.nodeBin, [supervisor, String(process.pid), this.options.paths.nodeBin, this.options.paths.n8nBin, this.options.command ?? 'start'], {
			cwd: this.options.userFolder,
			env: this.env(),
			detached: true,
			stdio: ['ignore', logFd, logFd],
		});
		closeSync(logFd);
		this.child = child;
		running.add(child);
		this.exited = new Promise<void>((resolve) => {
			child.once('exit', () => {
				running.delete(child);
				resolve();
			});
			child.once('error', () => {
				running.delete(child);
				resolve();
			});
		});
		writeFileSync(path.join(this.options.userFolder, 'n8n.pid'), `${child.pid}\n`);
		const deadline = startedAt + timeoutMs;
		while (Date.now() < deadline) {
			if (!this.isRunning) {
				throw new Error(`n8n exited during start (code ${child.exitCode}). Log tail:\n${this.tail()}`);
			}
			try {
				const r = await probe(this.options.readinessUrl ?? `${this.baseUrl}/healthz/readiness`, this.options.tls.caPem, 2000);
				if (r.status === 200) {
					this.readyAt = Date.now();
					return;
				}
			} catch {
				/* not listening yet */
			}
			await sleep(250);
		}
		throw new Error(`n8n was not ready after ${timeoutMs} ms. Log tail:\n${this.tail()}`);
	}

	/** SIGTERM to the process group, SIGKILL after the grace period. */
	async stop(graceMs = 30_000): Promise<void> {
		const child = this.child;
		if (!child || !this.isRunning) return;
		killGroup(child, 'SIGTERM');
		let timer: NodeJS.Timeout | undefined;
		const timedOut = await Promise.race([
			this.exited!.then(() => false),
			new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
		]);
		clearTimeout(timer);
		if (timedOut) {
			killGroup(child, 'SIGKILL');
			await this.exited;
		}
		// The task runner is in the same group; make sure nothing of it stays.
		killGroup(child, 'SIGKILL', true);
		this.child = undefined;
	}

	tail(lines = 60): string {
		const text = existsSync(this.logPath()) ? readFileSync(this.logPath(), 'utf8') : '';
		return text.split('\n').slice(-lines).join('\n');
	}
}

/** For afterAll: stops everything still running (normally nothing). */
export async function killAllStarted(): Promise<void> {
	for (const child of [...running]) killGroup(child, 'SIGKILL');
}
