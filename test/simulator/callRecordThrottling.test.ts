import { startGraphSimulator, type GraphSimulator } from './index';
import { accessToken, graphCall, seedStandardTenant } from './fixtures';

/** Graph's call-record throttling limits, when the simulator is started with throttleCallRecords. */
describe('simulated call-record throttling', () => {
	let sim: GraphSimulator;
	let token: string;
	afterEach(async () => sim?.close());

	async function start(throttleCallRecords: boolean) {
		sim = await startGraphSimulator({ throttleCallRecords });
		seedStandardTenant(sim, ['CallRecords.Read.All']);
		token = await accessToken(sim);
	}
	const read = (id: string) => graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${id}?$expand=participants_v2`);
	const list = () => graphCall(sim, token, 'GET', `/v1.0/communications/callRecords?$filter=${encodeURIComponent('startDateTime ge 2026-01-01T00:00:00Z')}`);

	it('answers the 41st read of one record within 20 s with 429 TooManyRequests and Retry-After; other records still read', async () => {
		await start(true);
		const record = sim.addCallRecord();
		for (let i = 0; i < 40; i++) expect((await read(record.id)).status).toBe(200);
		const throttled = await read(record.id);
		expect(throttled.status).toBe(429);
		expect((throttled.body?.error as { code: string }).code).toBe('TooManyRequests');
		expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(20);
		expect((await read(sim.addCallRecord().id)).status).toBe(200);
		expect(sim.countRequests({ status: 429 })).toBe(1);
	});

	it('answers the 41st list request within 20 s with 429', async () => {
		await start(true);
		for (let i = 0; i < 40; i++) expect((await list()).status).toBe(200);
		expect((await list()).status).toBe(429);
	});

	it('answers the 1,501st call-record request of one app and tenant within 20 s with 429', async () => {
		await start(true);
		const ids = Array.from({ length: 1501 }, () => sim.addCallRecord().id);
		const statuses: number[] = [];
		for (let start = 0; start < ids.length; start += 50) {
			statuses.push(...(await Promise.all(ids.slice(start, start + 50).map(async (id) => (await read(id)).status))));
		}
		expect(statuses.filter((status) => status === 429)).toHaveLength(1);
	}, 60_000);

	it('is off by default', async () => {
		await start(false);
		const record = sim.addCallRecord();
		for (let i = 0; i < 41; i++) expect((await read(record.id)).status).toBe(200);
	});
});
