import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';

import { benchDecrypt, type DecryptRow } from './decrypt';
import { fmt, log, table } from './stats';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const parts = new Set((option('only') ?? '1,2,3,4,5').split(',').map(Number));
const outFile = resolve(option('out') ?? 'bench/results.json');

function machine() {
	const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
	return {
		nproc: cpus().length,
		cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model,
		memoryGiB: Math.round(totalmem() / 2 ** 30),
		node: process.version,
		nodeOpenssl: process.versions.openssl,
		platform: `${process.platform} ${process.arch}`,
	};
}

function decryptTable(rows: DecryptRow[]): string {
	return table(
		['decrypt 1 KB notification (ops/s, median)', 'openssl sign', 'ours', '% of openssl', 'RSA op only', 'PEM per call', 'ours ÷ PEM', 'forge', 'ours ÷ forge'],
		rows.map((r) => [
			`RSA-${r.bits} (${r.payloadBytes} B JSON, ${r.runs} runs)`,
			r.opensslSignPerSec !== undefined ? fmt(r.opensslSignPerSec) : 'n/a',
			fmt(r.oursPerSec),
			r.percentOfOpenssl !== undefined ? `${fmt(r.percentOfOpenssl)}%` : 'n/a',
			fmt(r.rsaOnlyPerSec),
			fmt(r.pemPerCallPerSec),
			`${fmt(r.timesPemPerCall, 2)}×`,
			fmt(r.forgePerSec, 2),
			`${fmt(r.timesForge)}×`,
		]),
	);
}

async function main() {
	const results: Record<string, unknown> = {
		startedAt: new Date().toISOString(),
		command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
		machine: machine(),
	};
	const sections: string[] = [];
	const targets: Array<{ target: string; measured: string; holds: boolean }> = [];

	if (parts.has(1)) {
		const decrypt = benchDecrypt(
			quick ? { runs: 3, opensslSeconds: 1, nodeMs: 400, forgeMs: 600 } : { runs: 5, opensslSeconds: 3, nodeMs: 1500, forgeMs: 2000 },
		);
		results.decrypt = decrypt;
		sections.push(`Part 1 — decrypt throughput (openssl: ${decrypt.openssl})\n${decryptTable(decrypt.rows)}`);
		for (const r of decrypt.rows) {
			if (r.percentOfOpenssl !== undefined) {
				targets.push({ target: `RSA-${r.bits} ≥ 90% of openssl sign/s`, measured: `${fmt(r.percentOfOpenssl)}%`, holds: r.percentOfOpenssl >= 90 });
			}
			targets.push({ target: `RSA-${r.bits} ≥ 50× forge`, measured: `${fmt(r.timesForge)}×`, holds: r.timesForge >= 50 });
			targets.push({ target: `RSA-${r.bits} ≥ 2.5× PEM per call`, measured: `${fmt(r.timesPemPerCall, 2)}×`, holds: r.timesPemPerCall >= 2.5 });
		}
	}

	results.targets = targets;
	results.finishedAt = new Date().toISOString();
	mkdirSync(dirname(outFile), { recursive: true });
	writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
	const m = results.machine as ReturnType<typeof machine>;
	console.log(`\nMachine: ${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node} (OpenSSL ${m.nodeOpenssl})\n`);
	console.log(sections.join('\n\n'));
	console.log(`\nTargets\n${table(['target', 'measured', 'holds'], targets.map((t) => [t.target, t.measured, t.holds ? 'yes' : 'NO']))}`);
	console.log(`\nWrote ${outFile}`);
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
		process.exit(1);
	},
);
