/** Small helpers shared by the benchmark parts. */

export function median(values: number[]): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
	return sorted[rank - 1];
}

export function round(value: number, digits = 1): number {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}

export function fmt(value: number, digits = 1): string {
	if (!Number.isFinite(value)) return '–';
	return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A plain-text table with right-aligned columns after the first. */
export function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) =>
		cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const now = (): number => performance.now();

/**
 * Collects the garbage a previous step left, so that the next measurement does not pay for it.
 * (`npm run bench` runs node with --expose-gc; without it this does nothing.)
 */
export function collectGarbage(): void {
	(globalThis as { gc?: () => void }).gc?.();
}

/** Absolute time in ms with sub-ms precision, comparable across processes on this machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

export function log(message: string): void {
	process.stderr.write(`bench: ${message}\n`);
}
