import { CANARY_SWEEPS_IN_A_ROW, FilterCanary } from '../../../lib/callRecords/filterCanary';
import { hasWatchedParticipant } from '../../../lib/callRecords/watchedParticipants';
import { SWEEP_INTERVAL_VARIABLE, sweepIntervalMs } from '../../../lib/callRecords/sweepInterval';

const HOUR = 3_600_000;
const QUARTER = HOUR / 4;

describe('the "In Graph" filter canary', () => {
	it(`reports at the ${CANARY_SWEEPS_IN_A_ROW}rd sweep in a row that found missed records, with what the streak found; then at most hourly`, () => {
		const canary = new FilterCanary();
		expect(canary.sweepFound(2, 0)).toBeUndefined();
		expect(canary.sweepFound(1, QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 2 * QUARTER)).toEqual({ missedRecords: 4, sweeps: 3 });
		expect(canary.sweepFound(1, 3 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 5 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 6 * QUARTER)).toEqual({ missedRecords: 7, sweeps: 6 });
	});

	it('starts again after a notification, or after a sweep that found nothing missed', () => {
		const canary = new FilterCanary();
		canary.sweepFound(1, 0);
		canary.sweepFound(1, QUARTER);
		canary.notificationArrived();
		expect(canary.sweepFound(1, 2 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 3 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(0, 4 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 5 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 6 * QUARTER)).toBeUndefined();
		expect(canary.sweepFound(1, 7 * QUARTER)).toEqual({ missedRecords: 3, sweeps: 3 });
	});
});

describe('whether a watched user took part (Filter "After Reading")', () => {
	const ADELE = '5f0a6a4e-0000-4000-8000-00000000000a';
	const entity = (id: string) => ({ id, identity: { user: { id, displayName: 'x' } } });

	it('counts participants_v2, in any case, and not the organizer', () => {
		expect(hasWatchedParticipant({ participants_v2: [entity('other'), entity(ADELE.toUpperCase())] }, [ADELE])).toBe(true);
		expect(hasWatchedParticipant({ participants_v2: [entity('other')], organizer_v2: entity(ADELE) }, [ADELE])).toBe(false);
		expect(hasWatchedParticipant({ participants_v2: [{ identity: { user: { id: ADELE } } }] }, [ADELE])).toBe(true);
		expect(hasWatchedParticipant({}, [ADELE])).toBe(false);
	});
});

describe('the sweep interval', () => {
	it(`is 15 minutes unless ${SWEEP_INTERVAL_VARIABLE} names 10 to 86,400 whole seconds`, () => {
		const interval = (value?: string) => sweepIntervalMs(value === undefined ? {} : { [SWEEP_INTERVAL_VARIABLE]: value });
		expect([interval(), interval('20'), interval(' 86400 '), interval('9'), interval('1.5'), interval('abc'), interval('')]).toEqual([
			900_000, 20_000, 86_400_000, 900_000, 900_000, 900_000, 900_000,
		]);
	});
});
