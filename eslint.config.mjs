import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

// Rules written for node and credential code; tests and the simulator play Microsoft's side and
// legitimately hold fake secrets and throw plain errors.
const n8nRuleNames = [
	...new Set(
		configWithoutCloudSupport.flatMap((entry) =>
			Object.keys(entry.rules ?? {}).filter(
				(rule) => rule.startsWith('@n8n/community-nodes/') || rule.startsWith('n8n-nodes-base/'),
			),
		),
	),
];

// Unverified community package: it needs @azure/msal-node and node-forge at run time (see README,
// "Runtime dependencies"), so the cloud-only rules and the no-runtime-dependencies rule are off.
export default [
	{ ignores: ['dist/**', 'coverage/**', '.cache/**', 'test/.generated/**', '**/*.js', '**/*.mjs'] },
	...configWithoutCloudSupport,
	{ files: ['package.json'], rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' } },
	{
		// lib/ is plain library code with precise error classes (CertificateInputError, TokenRequestError…);
		// the node layer turns them into NodeApiError / NodeOperationError, where this rule belongs.
		files: ['lib/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		files: ['test/**/*.ts'],
		rules: Object.fromEntries(n8nRuleNames.map((rule) => [rule, 'off'])),
	},
];
