import type { Logger } from 'n8n-workflow';

/** Notifications dropped from one batch, counted by reason and logged in one line, however many. */
export class DropTally {
	private readonly counts = new Map<string, number>();
	private first = '';

	drop(code: string, detail: string): void {
		this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
		this.first ||= detail;
	}

	/** One warn line per batch: a hostile batch must not flood the log. */
	warn(logger: Logger, batchSize: number, what: string): void {
		if (this.counts.size === 0) return;
		const counts = [...this.counts].map(([code, count]) => `${code}: ${count}`).join(', ');
		const total = [...this.counts.values()].reduce((sum, count) => sum + count, 0);
		logger.warn(`Dropped ${total} of ${batchSize} ${what} (${counts}); first: ${this.first}`);
	}
}
