import { capturedLogs } from './n8nTriggerHarness';

const HOLD = /^Holding back call-record requests for (\d+) s/;

/**
 * Moves the wall clock (Date only; timers stay real) past each hold the call-record pace logs, so a test at
 * volume does not sit out Graph's 20 s windows in real time. The pace and the simulator's throttling both read
 * Date, so both see the window pass. Between holds, Date runs with real time.
 */
export function skipCallRecordHolds(): { readonly skippedSeconds: number; stop(): void } {
	// Date keeps running with real time (advanceTimers), so Graph's windows also pass as they would; it jumps at holds.
	jest.useFakeTimers({
		doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'queueMicrotask', 'hrtime', 'performance'],
		advanceTimers: true,
		now: Date.now(),
	});
	let seen = capturedLogs.length;
	let skippedSeconds = 0;
	const timer = setInterval(() => {
		for (; seen < capturedLogs.length; seen++) {
			const hold = HOLD.exec(capturedLogs[seen]!.message);
			if (!hold) continue;
			skippedSeconds += Number(hold[1]);
			jest.setSystemTime(Date.now() + Number(hold[1]) * 1000);
		}
	}, 10);
	return {
		get skippedSeconds() {
			return skippedSeconds;
		},
		stop() {
			clearInterval(timer);
			jest.useRealTimers();
		},
	};
}
