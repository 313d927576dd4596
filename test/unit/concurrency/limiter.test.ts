import { Limiter } from '../../../lib/concurrency/limiter';

describe('Limiter', () => {
	it('never runs more than its limit at once, even when tasks finish and start in the same turn', async () => {
		const limiter = new Limiter(2);
		let running = 0;
		let peak = 0;
		const task = async (ms: number) => {
			running++;
			peak = Math.max(peak, running);
			await new Promise((resolve) => setTimeout(resolve, ms));
			running--;
		};
		const all = Array.from({ length: 12 }, (_, n) => limiter.run(() => task(n % 3)));
		// Newcomers arriving while a place is being handed over.
		await new Promise((resolve) => setTimeout(resolve, 1));
		all.push(...Array.from({ length: 6 }, () => limiter.run(() => task(1))));
		await Promise.all(all);
		expect(peak).toBe(2);
		expect(limiter.peak).toBe(2);
	});

	it('goes on after a task fails', async () => {
		const limiter = new Limiter(1);
		await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		await expect(limiter.run(async () => 'next')).resolves.toBe('next');
	});
});
