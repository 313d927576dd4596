'use strict';
/**
 * Runs n8n for the e2e harness and the demo, and makes sure it never outlives whoever started it.
 *
 *   node n8nSupervisor.js <ownerPid> <command> [args...]
 *
 * Started as the leader of its own process group; n8n and its task runner stay in that group. The
 * harness stops everything with one signal to the group (SIGTERM: n8n shuts down cleanly, then this
 * exits with n8n's status). If the owner disappears without doing so (jest killed, Ctrl-C, a crash:
 * signals end Node without 'exit' handlers, and jest's sandboxed `process` never sees them), this
 * notices within a second and kills the group.
 */
const { spawn } = require('node:child_process');

const [ownerArg, command, ...args] = process.argv.slice(2);
const ownerPid = Number(ownerArg);
if (!ownerPid || !command) {
	process.stderr.write('usage: n8nSupervisor.js <ownerPid> <command> [args...]\n');
	process.exit(2);
}

const child = spawn(command, args, { stdio: 'inherit' });
let stopping = false;

function ownerAlive() {
	try {
		process.kill(ownerPid, 0);
		return true;
	} catch (e) {
		return e.code === 'EPERM';
	}
}

function killGroup(signal) {
	try {
		process.kill(-process.pid, signal);
	} catch {
		child.kill(signal);
	}
}

// The group got SIGTERM/SIGINT too (n8n handles it); just wait for n8n, with a hard limit.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
	process.on(signal, () => {
		if (stopping) return;
		stopping = true;
		setTimeout(() => killGroup('SIGKILL'), 30_000).unref();
	});
}

const watch = setInterval(() => {
	if (!ownerAlive()) {
		process.stderr.write(`[n8n-supervisor] owner ${ownerPid} is gone; stopping n8n\n`);
		clearInterval(watch);
		stopping = true;
		killGroup('SIGTERM');
		setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
	}
}, 1000);

child.on('exit', (code, signal) => {
	clearInterval(watch);
	process.stderr.write(`[n8n-supervisor] n8n exited (${signal ?? `code ${code}`})\n`);
	// Whatever n8n left in the group (the task runner) goes with it, this process included.
	try {
		process.kill(-process.pid, 'SIGKILL');
	} catch {
		process.exit(code ?? 1);
	}
});
child.on('error', (error) => {
	process.stderr.write(`[n8n-supervisor] could not start ${command}: ${error.message}\n`);
	process.exit(1);
});
