/** At most `limit` tasks at once; the rest wait their turn, in order. */
export class Limiter {
	private running = 0;
	private readonly waiting: Array<() => void> = [];
	/** The most tasks that ran at once: what a bound is checked against. */
	peak = 0;

	constructor(private readonly limit: number) {}

	async run<T>(task: () => Promise<T>): Promise<T> {
		// A finishing task hands its place straight to the next in line, so a newcomer cannot slip in between.
		if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
		else this.running++;
		this.peak = Math.max(this.peak, this.running);
		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			if (next) next();
			else this.running--;
		}
	}
}
