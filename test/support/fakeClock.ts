/**
 * Moves the wall clock (Date) without faking timers: HTTPS, retries and sleeps keep running for real,
 * while subscription expiry, token lifetimes and renewal decisions see the moved time. The simulator
 * reads the same Date, so both sides agree.
 */
export function useFakeDate(): { advanceMinutes(minutes: number): void; restore(): void } {
	jest.useFakeTimers({
		doNotFake: [
			'nextTick',
			'setImmediate',
			'clearImmediate',
			'setInterval',
			'clearInterval',
			'setTimeout',
			'clearTimeout',
			'queueMicrotask',
			'hrtime',
			'performance',
		],
		now: Date.now(),
	});
	return {
		advanceMinutes(minutes: number) {
			jest.setSystemTime(Date.now() + minutes * 60_000);
		},
		restore() {
			jest.useRealTimers();
		},
	};
}
