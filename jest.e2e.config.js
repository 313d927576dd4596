/**
 * End-to-end tests in a real n8n (see test/e2e/README.md): `npm run build && npm run test:e2e`.
 * One n8n at a time (ports, CPU, timing-sensitive renewal checks), long timeouts.
 */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
	},
	maxWorkers: 1,
	testTimeout: 20 * 60_000,
	slowTestThreshold: 60,
	verbose: true,
};
