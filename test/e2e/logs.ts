import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT } from './n8nProcess';

/** Keeps the n8n log of the last run of a test file in the git-ignored cache, for failures. */
export function saveLogs(name: string, text: string): string {
	const dir = path.join(REPO_ROOT, '.cache', 'n8n-e2e', 'logs');
	mkdirSync(dir, { recursive: true });
	const file = path.join(dir, `${name}.log`);
	writeFileSync(file, text);
	process.stderr.write(`e2e: n8n log of ${name} saved to ${path.relative(REPO_ROOT, file)}\n`);
	return file;
}
