/**
 * Real Postgres and Redis servers for the queue-mode e2e test: Debian's `postgresql` and `redis-server`
 * packages, each on a free loopback port with its data in a temporary folder. Both run under
 * n8nSupervisor.js in their own process group, so they are stopped by PID and never outlive jest.
 *
 * Postgres refuses to run as root: as root, its binaries run as the `postgres` system user the
 * package creates, and the data folder belongs to that user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';

import { freePort, REPO_ROOT, sleep } from './n8nProcess';

const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest installed Postgres major's bin folder. */
function postgresBinDir(): string {
	const versions = existsSync(POSTGRES_ROOT)
		? readdirSync(POSTGRES_ROOT)
				.filter((v) => existsSync(path.join(POSTGRES_ROOT, v, 'bin', 'postgres')))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (versions.length === 0) {
		throw new Error(`No Postgres server under ${POSTGRES_ROOT}: apt-get install -y postgresql (the CI script does this)`);
	}
	return path.join(POSTGRES_ROOT, versions[0], 'bin');
}

function redisServerBin(): string {
	const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
	if (!found) throw new Error('redis-server is not installed: apt-get install -y redis-server (the CI script does this)');
	return found;
}

const isRoot = process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } {
	const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	if (!uid) throw new Error('Running as root but there is no `postgres` system user to run Postgres as');
	return { uid, gid };
}

/** As root: the command run as the postgres user; otherwise as is. */
function asPostgres(command: string, args: string[]): [string, string[]] {
	return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function supervisorPath(): string {
	return path.join(REPO_ROOT, 'test', 'e2e', 'n8nSupervisor.js');
}

function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	const attempt = (): Promise<void> =>
		new Promise<boolean>((resolve) => {
			const socket = createConnection({ host: '127.0.0.1', port });
			socket.once('connect', () => {
				socket.destroy();
				resolve(true);
			});
			socket.once('error', () => resolve(false));
		}).then(async (open) => {
			if (open) return;
			if (!isAlive()) throw new Error(`${what} exited during start`);
			if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
			await sleep(200);
			return attempt();
		});
	return attempt();
}

/** One server process under the supervisor, in its own process group. */
class SupervisedServer {
	private child: ChildProcess | undefined;
	private exited: Promise<void> = Promise.resolve();

	constructor(
		readonly name: string,
		readonly port: number,
		private readonly logFile: string,
	) {}

	get pid(): number | undefined {
		return this.child?.pid;
	}

	get isRunning(): boolean {
		return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
	}

	async start(command: string, args: string[], cwd: string): Promise<void> {
		const logFd = openSync(this.logFile, 'a');
		const child = spawn(process.execPath, [supervisorPath(), String(process.pid), command, ...args], {
			cwd,
			detached: true,
			stdio: ['ignore', logFd, logFd],
		});
		closeSync(logFd);
		this.child = child;
		this.exited = new Promise<void>((resolve) => {
			child.once('exit', () => resolve());
			child.once('error', () => resolve());
		});
		try {
			await waitForPort(this.port, 60_000, () => this.isRunning, this.name);
		} catch (error) {
			throw new Error(`${(error as Error).message}. Log tail:\n${this.tail()}`);
		}
	}

	/** SIGINT to the group (Postgres: fast shutdown; Redis: exit), SIGKILL after the grace period. */
	async stop(graceMs = 15_000): Promise<void> {
		const child = this.child;
		if (!child?.pid || !this.isRunning) return;
		const signalGroup = (signal: NodeJS.Signals) => {
			try {
				process.kill(-child.pid!, signal);
			} catch {
				/* already gone */
			}
		};
		signalGroup('SIGINT');
		let timer: NodeJS.Timeout | undefined;
		const timedOut = await Promise.race([
			this.exited.then(() => false),
			new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
		]);
		clearTimeout(timer);
		if (timedOut) {
			signalGroup('SIGKILL');
			await this.exited;
		}
		this.child = undefined;
	}

	tail(lines = 40): string {
		return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n') : '';
	}
}

export interface PostgresConnection {
	host: string;
	port: number;
	database: string;
	user: string;
}

/** A throw-away Postgres cluster: trust authentication on loopback only, no durability (tests). */
export class PostgresServer {
	private constructor(
		private readonly server: SupervisedServer,
		readonly connection: PostgresConnection,
	) {}

	static async start(dir: string): Promise<PostgresServer> {
		const bin = postgresBinDir();
		const dataDir = path.join(dir, 'data');
		mkdirSync(dir, { recursive: true });
		if (isRoot) {
			const { uid, gid } = postgresUser();
			chownSync(dir, uid, gid);
		}
		const [initCmd, initArgs] = asPostgres(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'n8n', '--auth=trust', '--no-sync', '-E', 'UTF8']);
		const init = spawnSync(initCmd, initArgs, { cwd: dir, encoding: 'utf8' });
		if (init.status !== 0) throw new Error(`initdb failed (exit ${init.status}): ${init.stderr}`);

		const port = await freePort();
		const server = new SupervisedServer('postgres', port, path.join(dir, 'postgres.log'));
		const [cmd, args] = asPostgres(path.join(bin, 'postgres'), [
			'-D', dataDir,
			'-h', '127.0.0.1',
			'-p', String(port),
			'-k', dir,
			'-c', 'fsync=off',
			'-c', 'synchronous_commit=off',
			'-c', 'full_page_writes=off',
			'-c', 'max_connections=200',
		]);
		await server.start(cmd, args, dir);
		const instance = new PostgresServer(server, { host: '127.0.0.1', port, database: 'n8n', user: 'n8n' });
		// The cluster has only the `postgres` database; n8n wants its own.
		const [createCmd, createArgs] = asPostgres(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'n8n', 'n8n']);
		const created = spawnSync(createCmd, createArgs, { cwd: dir, encoding: 'utf8' });
		if (created.status !== 0) {
			await instance.stop();
			throw new Error(`createdb failed (exit ${created.status}): ${created.stderr}`);
		}
		return instance;
	}

	/** n8n's DB_* settings for this server. */
	n8nEnv(): Record<string, string> {
		return {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: this.connection.host,
			DB_POSTGRESDB_PORT: String(this.connection.port),
			DB_POSTGRESDB_DATABASE: this.connection.database,
			DB_POSTGRESDB_USER: this.connection.user,
			DB_POSTGRESDB_PASSWORD: '',
		};
	}

	get pid(): number | undefined {
		return this.server.pid;
	}

	stop(): Promise<void> {
		return this.server.stop();
	}
}

/** A Redis without persistence on a free loopback port. */
export class RedisServer {
	private constructor(
		private readonly server: SupervisedServer,
		private readonly dir: string,
	) {}

	static async start(dir: string): Promise<RedisServer> {
		mkdirSync(dir, { recursive: true });
		const port = await freePort();
		const redis = new RedisServer(new SupervisedServer('redis', port, path.join(dir, 'redis.log')), dir);
		await redis.resume();
		return redis;
	}

	/** Starts the server (again, after `stop`) on its port: what the n8n processes reconnect to after an outage. */
	async resume(): Promise<void> {
		await this.server.start(
			redisServerBin(),
			['--port', String(this.server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
			this.dir,
		);
	}

	get port(): number {
		return this.server.port;
	}

	get pid(): number | undefined {
		return this.server.pid;
	}

	/** n8n's Bull queue settings for this server. */
	n8nEnv(): Record<string, string> {
		return { QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(this.server.port) };
	}

	stop(): Promise<void> {
		return this.server.stop();
	}
}
