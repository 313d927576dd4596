import { CallRecordPace, callRecordRequestOf } from '../../../lib/graph/callRecordPace';
import { useFakeDate } from '../../support/fakeClock';

describe('callRecordRequestOf', () => {
	it('names the record of a read, with or without $expand, and of its paging links', () => {
		expect(callRecordRequestOf('/v1.0/communications/callRecords/ABC-1?$expand=participants_v2')).toEqual({ record: 'abc-1' });
		expect(callRecordRequestOf('/v1.0/communications/callRecords/abc-1/sessions?$skiptoken=x')).toEqual({ record: 'abc-1' });
		expect(callRecordRequestOf('/beta/communications/callRecords/abc-1')).toEqual({ record: 'abc-1' });
	});

	it('calls a request on the collection a listing, and anything else not a call-record request', () => {
		expect(callRecordRequestOf("/v1.0/communications/callRecords?$filter=startDateTime ge 2026-01-01T00:00:00Z")).toBe('listing');
		expect(callRecordRequestOf('/v1.0/communications/callRecords')).toBe('listing');
		expect(callRecordRequestOf('/v1.0/subscriptions')).toBeUndefined();
		expect(callRecordRequestOf('/v1.0/communications/callRecordsX')).toBeUndefined();
	});
});

describe('CallRecordPace', () => {
	const lines: string[] = [];
	const logger = { info: (message: string) => lines.push(`info ${message}`), warn: (message: string) => lines.push(`warn ${message}`) };
	let date: ReturnType<typeof useFakeDate>;
	beforeEach(() => {
		lines.length = 0;
		date = useFakeDate();
	});
	afterEach(() => date.restore());

	it('lets 40 requests for one record through at once, holds the 41st until the window has passed, and logs the hold once', async () => {
		const pace = new CallRecordPace();
		for (let i = 0; i < 40; i++) await pace.admit({ record: 'a' }, logger);
		let released = false;
		const held = [pace.admit({ record: 'a' }, logger), pace.admit({ record: 'a' }, logger)].map((admitted) => admitted.then(() => (released = true)));
		await pace.admit({ record: 'b' }, logger);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(released).toBe(false);
		expect(lines).toEqual(['info Holding back call-record requests for 21 s: Microsoft Graph allows 40 requests per 20 s for one call record']);
		jest.setSystemTime(Date.now() + 21_000);
		await Promise.all(held);
		expect(lines).toHaveLength(1);
	});

	it('after a 429, holds every call-record request for its Retry-After and warns', async () => {
		const pace = new CallRecordPace();
		pace.throttled(5, logger);
		let released = false;
		const held = pace.admit('listing', logger).then(() => (released = true));
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(released).toBe(false);
		jest.setSystemTime(Date.now() + 5_000);
		await held;
		expect(lines).toEqual([
			'warn Microsoft Graph answered 429 Too Many Requests to a call-record request; waiting 5 s as its Retry-After asks',
			'info Holding back call-record requests for 5 s: Microsoft Graph answered 429 Too Many Requests and asked to wait',
		]);
	});
});
