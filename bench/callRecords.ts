import { rmSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RECORD_READS_PER_TRIGGER } from '../lib/callRecords/readCallRecord';
import { capturedLogs } from '../test/support/n8nTriggerHarness';
import { startTriggerFixture, USERS } from '../test/support/triggerFixture';
import { collectGarbage, log, median, percentile, wallClock } from './stats';
import { AckClient } from './webhook';

/** What one run of part 8 sends, each round: `records` distinct call records, in batches of `batchSize`, all posted at once. */
export interface CallRecordsPlan {
	records: number;
	batchSize: number;
	/** Every `delayEvery`-th record answers 404 for its first `delayMs` (Graph: a new record can be unreadable for a while). */
	delayEvery: number;
	delayMs: number;
	/** How long each record read takes at the simulator (0: as fast as it can answer). */
	readLatencyMs: number;
	/** Rounds of `records` fresh records each, one after the other on one trigger. */
	reps: number;
	/** The simulator applies Graph's call-record throttling limits (429 past them). */
	throttleCallRecords?: boolean;
	/** Read each record's sessions too: a second GET per record. */
	includeSessions?: boolean;
}

interface Round {
	batches: number;
	delayedRecords: number;
	statuses: number[];
	acks: number[];
	allItemsReadyMs: number;
	items: number;
	distinctItems: number;
	recordReads: number;
	recordsReadTwice: number;
	recordsNeverRead: number;
	notFoundReads: number;
	allRecordGets: number;
	otherGraphRequests: number;
	tlsConnectionsOpened: number;
	tlsConnectionsAccepted: number;
	responses429: number;
}

export interface CallRecordsRun extends CallRecordsPlan {
	batches: number;
	delayedRecords: number;
	/** Graph's answer to each batch (distinct statuses). */
	statuses: number[];
	/** Client: request start → the 202 arrived, over every batch of every round. */
	ackMedianMs: number;
	ackP99Ms: number;
	ackMaxMs: number;
	/** Per round: first notification sent → every execution has emitted its items (server wall clock, same machine). */
	allItemsReadyMs: number[];
	allItemsReadyMedianMs: number;
	items: number;
	distinctItems: number;
	/** Summed over the rounds. GET communications/callRecords/{id} answered 200: a record read. */
	recordReads: number;
	/** Records read more than once (twice with sessions; must be 0), and notified records never read (must be 0). */
	recordsReadTwice: number;
	recordsNeverRead: number;
	/** GETs answered 404 (a delayed record, asked again after a backoff). */
	notFoundReads: number;
	allRecordGets: number;
	/** Other Graph requests during the run (token, paging): expected 0 for basic records. */
	otherGraphRequests: number;
	peakConcurrentReads: number;
	/** TLS connections this process opened during the run (the trigger's to Graph: n8n's HTTP helper). */
	tlsConnectionsOpened: number;
	/** TLS connections the simulator's Graph host accepted during the rounds. */
	tlsConnectionsAccepted: number;
	/** Graph answers 429 during the rounds (only with throttleCallRecords). */
	responses429: number;
	warnings: string[];
}

/**
 * Part 8: call-record notifications (basic: the record's ID) through the trigger's webhook, behind n8n-core's
 * real WebhookContext (test harness) on HTTPS, posted by "Graph" from another process, against the Graph
 * simulator: what it costs Graph (reads per record, concurrency) and how long until every item is ready.
 */
export async function benchCallRecords(plan: CallRecordsPlan): Promise<CallRecordsRun> {
	const fixture = await startTriggerFixture(
		// The whole tenant (one subscription); a long wait, so that no delayed record is given up on.
		{ source: 'callRecords', recordUsers: [], recordOptions: { waitForRecordSeconds: 120, includeSessions: plan.includeSessions === true } },
		{
			simulator: { callRecordReadLatencyMs: plan.readLatencyMs, throttleCallRecords: plan.throttleCallRecords },
			permissions: ['CallRecords.Read.All', 'User.Read.All'],
			withoutCertificateCredential: true,
		},
	);
	const client = await AckClient.start();
	const files: string[] = [];
	try {
		await fixture.harness.activate();
		const [subscription] = fixture.sim.subscriptions();
		if (!subscription || fixture.sim.subscriptions().length !== 1) throw new Error('expected one call-records subscription after activation');

		// Warm-up (token, credential, JIT), not counted: one record, one batch.
		const warm = fixture.sim.addCallRecord({ participants: [USERS[0]] });
		const warmFile = join(tmpdir(), `teams-calls-bench-records-${process.pid}-warm.json`);
		files.push(warmFile);
		writeFileSync(warmFile, JSON.stringify({ value: [fixture.sim.callRecordNotificationFor(subscription, warm.id)] }));
		const url = fixture.harness.url('notify').replace('//localhost:', '//127.0.0.1:');
		const warmAnswer = await client.post(url, warmFile);
		await fixture.harness.settled();
		if (warmAnswer.status !== 202 || fixture.harness.executions.length !== 1) {
			throw new Error(`warm-up: HTTP ${String(warmAnswer.status ?? warmAnswer.error)}, ${fixture.harness.executions.length} executions; logs: ${capturedLogs.slice(-3).map((l) => l.message).join(' | ')}`);
		}
		fixture.harness.executions.length = 0;
		capturedLogs.length = 0;
		// The simulator logs a request once its answer is flushed: the warm-up's read must not land in the run's log.
		await new Promise((done) => setTimeout(done, 200));

		const rounds: Round[] = [];
		for (let rep = 0; rep < plan.reps; rep++) {
			rounds.push(await deliverRound(rep));
			fixture.harness.executions.length = 0;
			}
		const acks = rounds.flatMap((round) => round.acks);
		const ready = rounds.map((round) => round.allItemsReadyMs);
		const sum = (pick: (round: Round) => number) => rounds.reduce((total, round) => total + pick(round), 0);
		const run: CallRecordsRun = {
			...plan,
			batches: rounds[0].batches,
			delayedRecords: rounds[0].delayedRecords,
			statuses: [...new Set(rounds.flatMap((round) => round.statuses))],
			ackMedianMs: median(acks),
			ackP99Ms: percentile(acks, 99),
			ackMaxMs: Math.max(...acks),
			allItemsReadyMs: ready,
			allItemsReadyMedianMs: median(ready),
			items: sum((round) => round.items),
			distinctItems: sum((round) => round.distinctItems),
			recordReads: sum((round) => round.recordReads),
			recordsReadTwice: sum((round) => round.recordsReadTwice),
			recordsNeverRead: sum((round) => round.recordsNeverRead),
			notFoundReads: sum((round) => round.notFoundReads),
			allRecordGets: sum((round) => round.allRecordGets),
			otherGraphRequests: sum((round) => round.otherGraphRequests),
			peakConcurrentReads: fixture.sim.peakConcurrentRecordReads,
			tlsConnectionsOpened: sum((round) => round.tlsConnectionsOpened),
			tlsConnectionsAccepted: sum((round) => round.tlsConnectionsAccepted),
			responses429: sum((round) => round.responses429),
			warnings: capturedLogs.filter((line) => line.level === 'warn' || line.level === 'error').map((line) => line.message),
		};
		log(
			`part 8: read latency ${plan.readLatencyMs} ms${plan.throttleCallRecords ? ', Graph throttling on' : ''}: ${run.items} items, ${run.recordReads} reads (+${run.notFoundReads} answered 404), ` +
				`peak ${run.peakConcurrentReads} at once (bound ${RECORD_READS_PER_TRIGGER}), all ready in ${ready.map((ms) => Math.round(ms)).join(' / ')} ms, ` +
				`${run.tlsConnectionsAccepted} TLS connections accepted by Graph, ${run.responses429} answered 429`,
		);
		return run;

		/** One round: `plan.records` fresh records, their notifications in batches all posted at once. */
		async function deliverRound(rep: number): Promise<Round> {
			// Distinct records, each with its participants; every delayEvery-th not readable for delayMs from now.
			const records = Array.from({ length: plan.records }, (_, i) =>
				fixture.sim.addCallRecord({
					type: i % 3 ? 'peerToPeer' : 'groupCall',
					organizer: USERS[i % USERS.length],
					participants: [USERS[i % USERS.length], USERS[(i + 1) % USERS.length]],
					notReadableForMs: i % plan.delayEvery === 0 ? plan.delayMs : 0,
				}),
			);
			const batches: string[] = [];
			for (let start = 0; start < records.length; start += plan.batchSize) {
				const file = join(tmpdir(), `teams-calls-bench-records-${process.pid}-${rep}-${batches.length}.json`);
				files.push(file);
				const value = records.slice(start, start + plan.batchSize).map((record) => fixture.sim.callRecordNotificationFor(subscription, record.id));
				writeFileSync(file, JSON.stringify({ value }));
				batches.push(file);
			}
			collectGarbage();
			fixture.sim.clearRequests();
			const acceptedBefore = fixture.sim.graphTlsConnectionsAccepted;
			const connect = tls.connect;
			let tlsConnections = 0;
			(tls as { connect: typeof tls.connect }).connect = ((...args: Parameters<typeof tls.connect>) => {
				tlsConnections++;
				return connect(...args);
			}) as typeof tls.connect;
			let answers: Awaited<ReturnType<AckClient['post']>>[];
			let settledAt = 0;
			try {
				// Graph does not wait for one delivery before the next: every batch at once.
				answers = await Promise.all(batches.map((file) => client.post(url, file)));
				await fixture.harness.settled();
				// Items are ready when the executions have read their records: webhook() only admits (two phases).
				settledAt = wallClock();
				// The simulator logs a request once its answer is flushed, which can trail the client by a moment.
				await new Promise((done) => setTimeout(done, 200));
			} finally {
				(tls as { connect: typeof tls.connect }).connect = connect;
			}

			const failed = answers.filter((answer) => answer.error || answer.status === undefined);
			if (failed.length > 0) throw new Error(`${failed.length} batches got no answer: ${failed[0].error ?? ''}`);
			const firstSent = Math.min(...answers.map((answer) => answer.started));
			const items = fixture.harness.executions.flatMap((execution) => execution.items.map((item) => String(item.json.callId)));

			const gets = fixture.sim.findRequests({ method: 'GET', path: /\/communications\/callRecords\// });
			const readsPerRecord = new Map<string, number>();
			for (const get of gets.filter((request) => request.status === 200)) {
				const id = /\/communications\/callRecords\/([^/?]+)/.exec(get.path)?.[1] ?? get.path;
				readsPerRecord.set(id, (readsPerRecord.get(id) ?? 0) + 1);
			}
			const notified = new Set(records.map((record) => record.id));
			const strayReads = [...readsPerRecord.keys()].filter((id) => !notified.has(id));
			if (strayReads.length > 0) throw new Error(`reads of records that were not notified in this round: ${strayReads.join(', ')}`);
			return {
				batches: batches.length,
				delayedRecords: records.filter((_, i) => i % plan.delayEvery === 0).length,
				statuses: answers.map((answer) => answer.status ?? 0),
				acks: answers.map((answer) => answer.headersAt - answer.started),
				allItemsReadyMs: settledAt - firstSent,
				items: items.length,
				distinctItems: new Set(items).size,
				recordReads: gets.filter((request) => request.status === 200).length,
				recordsReadTwice: [...readsPerRecord.values()].filter((count) => count > (plan.includeSessions ? 2 : 1)).length,
				recordsNeverRead: records.filter((record) => !readsPerRecord.has(record.id)).length,
				notFoundReads: gets.filter((request) => request.status === 404).length,
				allRecordGets: gets.length,
				otherGraphRequests: fixture.sim.countRequests({ host: 'graph' }) - gets.length,
				tlsConnectionsOpened: tlsConnections,
				tlsConnectionsAccepted: fixture.sim.graphTlsConnectionsAccepted - acceptedBefore,
				responses429: fixture.sim.countRequests({ host: 'graph', status: 429 }),
			};
		}
	} finally {
		await client.close();
		await fixture.close();
		for (const file of files) rmSync(file, { force: true });
	}
}
