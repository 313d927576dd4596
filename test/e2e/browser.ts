/**
 * Debian's Chromium driven by playwright-core, for the editor e2e test: no browser download, a fixed
 * viewport and the light theme (so screenshots are comparable), and waits that fail with the name of
 * what was missing instead of hanging.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { chromium, selectors, type Browser, type Locator, type Page } from 'playwright-core';

import { REPO_ROOT } from './n8nProcess';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 800 };

/**
 * As root, in a sandbox without a GPU, on a closed network: Chromium's own background traffic (updates,
 * sync, Google lookups) is refused here many times a second unless it is switched off.
 */
const CHROMIUM_FLAGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

export const SCREENSHOT_DIR = path.join(REPO_ROOT, '.cache', 'screenshots');
/** `npm run screenshots` sets this: the shots named in DOCS_SCREENSHOTS are copied into docs/images. */
const COPY_TO_DOCS = process.env.N8N_E2E_SCREENSHOTS_TO_DOCS === '1';
const DOCS_IMAGES = path.join(REPO_ROOT, 'docs', 'images');

export interface EditorBrowser {
	browser: Browser;
	page: Page;
	close(): Promise<void>;
}

export async function launchEditorBrowser(baseURL: string): Promise<EditorBrowser> {
	if (!existsSync(CHROMIUM)) {
		throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium; .ci/run does it) or set CHROMIUM_PATH`);
	}
	// n8n's own end-to-end tests find elements by data-test-id.
	selectors.setTestIdAttribute('data-test-id');
	const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
	// n8n serves HTTPS with a certificate from the test CA, which this browser profile does not know.
	const context = await browser.newContext({ baseURL, ignoreHTTPSErrors: true, viewport: VIEWPORT, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
	// n8n follows the system theme unless this key is set (the script runs in the page, hence a string).
	await context.addInitScript("window.localStorage.setItem('N8N_THEME', 'light')");
	const page = await context.newPage();
	page.setDefaultTimeout(30_000);
	page.setDefaultNavigationTimeout(90_000);
	return { browser, page, close: () => browser.close() };
}

/** Waits until `locator` is visible; on timeout says what was missing and keeps a screenshot of the page. */
export async function expectVisible(locator: Locator, what: string, timeoutMs = 30_000): Promise<Locator> {
	try {
		await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
		return locator;
	} catch (error) {
		const shot = await screenshot(locator.page(), `failed-${what.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`).catch(() => undefined);
		throw new Error(
			`The editor did not show ${what} within ${timeoutMs / 1000} s (looked for ${String(locator)})${shot ? `; page: ${shot}` : ''}. ` +
				`n8n's editor may have changed: compare with n8n's own e2e tests (packages/testing/playwright).\n${(error as Error).message.split('\n')[0]}`,
		);
	}
}

/** The page's visible text inside `locator`, once it contains every one of `parts`. */
export async function expectText(locator: Locator, what: string, parts: Array<string | RegExp>, timeoutMs = 30_000): Promise<string> {
	await expectVisible(locator, what, timeoutMs);
	const deadline = Date.now() + timeoutMs;
	let text = '';
	for (;;) {
		text = await locator.first().innerText().catch(() => '');
		const missing = parts.filter((part) => (typeof part === 'string' ? !text.includes(part) : !part.test(text)));
		if (missing.length === 0) return text;
		if (Date.now() > deadline) {
			const shot = await screenshot(locator.page(), `failed-${what.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`).catch(() => undefined);
			throw new Error(`${what} did not show ${missing.map(String).join(', ')} within ${timeoutMs / 1000} s${shot ? ` (page: ${shot})` : ''}. It showed:\n${text.slice(0, 1500)}`);
		}
		await locator.page().waitForTimeout(250);
	}
}

/** Writes .cache/screenshots/<name>.png; with N8N_E2E_SCREENSHOTS_TO_DOCS=1, `docsName` also goes to docs/images. */
export async function screenshot(page: Page, name: string, docsName?: string): Promise<string> {
	mkdirSync(SCREENSHOT_DIR, { recursive: true });
	const file = path.join(SCREENSHOT_DIR, `${name}.png`);
	await page.screenshot({ path: file });
	if (docsName && COPY_TO_DOCS) {
		mkdirSync(DOCS_IMAGES, { recursive: true });
		copyFileSync(file, path.join(DOCS_IMAGES, `${docsName}.png`));
	}
	return path.relative(REPO_ROOT, file);
}
