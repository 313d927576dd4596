import { retryFetch } from '../../../lib/validation/retryFetch';

/** A fetch that fails the first `failures` calls, then answers. */
function flakyFetch(failures: number) {
	const calls: string[] = [];
	const fetchJson = async (url: string) => {
		calls.push(url);
		if (calls.length <= failures) throw new Error(`connect ECONNREFUSED (call ${calls.length})`);
		return { keys: [] };
	};
	return { calls, fetchJson };
}

describe('retryFetch', () => {
	it('answers at once when the first attempt works', async () => {
		const flaky = flakyFetch(0);
		await expect(retryFetch(flaky.fetchJson, [0, 0])('https://login.test/keys')).resolves.toEqual({ keys: [] });
		expect(flaky.calls).toHaveLength(1);
	});

	it('tries again after each delay and answers with the first success', async () => {
		const flaky = flakyFetch(2);
		const started = Date.now();
		await expect(retryFetch(flaky.fetchJson, [30, 60])('https://login.test/keys')).resolves.toEqual({ keys: [] });
		expect(flaky.calls).toEqual(['https://login.test/keys', 'https://login.test/keys', 'https://login.test/keys']);
		expect(Date.now() - started).toBeGreaterThanOrEqual(85);
	});

	it('gives up after the last delay with the last error and the number of attempts', async () => {
		const flaky = flakyFetch(5);
		await expect(retryFetch(flaky.fetchJson, [0, 0])('https://login.test/keys')).rejects.toThrow('connect ECONNREFUSED (call 3) (3 attempts)');
		expect(flaky.calls).toHaveLength(3);
	});
});
