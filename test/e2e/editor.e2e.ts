/**
 * Issue 14: the trigger as a person meets it, in n8n's editor in a real browser (Debian's Chromium through
 * playwright-core) against the real n8n of the e2e harness and the Graph simulator. Every step is checked
 * on what the page shows. The package is loaded as an installed community package, as Settings >
 * Community nodes installs it: only then does n8n's editor test credentials.
 *
 * Screenshots go to .cache/screenshots; `npm run screenshots` copies the chosen ones into docs/images.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Locator, Page } from 'playwright-core';

import type { StoredSubscription } from '../simulator';
import { expectText, expectVisible, launchEditorBrowser, screenshot, type EditorBrowser } from './browser';
import { CLIENT_ID, E2eEnvironment, generateEncryptionCertificate, TENANT, USERS, waitFor } from './e2eEnvironment';
import { simulatorAppCredential } from '../support/simulatorTenant';
import { saveLogs } from './logs';
import { OWNER } from './n8nApi';

const [adele] = USERS;
const APP_CREDENTIAL = 'Teams app (simulator)';
const CERTIFICATE_CREDENTIAL = 'Notification certificate';

let env: E2eEnvironment;
let editor: EditorBrowser;
let page: Page;
let workflowId = '';

beforeAll(async () => {
	env = await E2eEnvironment.start({ installedPackage: true });
	editor = await launchEditorBrowser(env.n8n.baseUrl);
	page = editor.page;
});

afterAll(async () => {
	await editor?.close();
	if (env) {
		saveLogs('editor', env.n8n.logs());
		await env.close();
	}
});

/** n8n's credential form ("Create credential" from the overview), for one credential type. */
async function openNewCredential(typeName: string): Promise<Locator> {
	await page.goto('/home/credentials/create');
	const option = page.getByTestId('new-credential-type-select-option').filter({ hasText: typeName });
	await expectVisible(option, `the credential type "${typeName}" in the new-credential list`);
	await option.first().click();
	await page.getByTestId('new-credential-type-button').click();
	return expectVisible(page.getByTestId('credential-edit-dialog'), 'the credential form');
}

async function fillField(form: Locator, name: string, value: string): Promise<void> {
	const input = form.getByTestId(`parameter-input-${name}`).locator('input, textarea').first();
	await expectVisible(input, `the credential field ${name}`);
	await input.fill(value);
}

async function nameCredential(form: Locator, name: string): Promise<void> {
	await form.page().getByTestId('credential-name').click();
	await form.page().getByTestId('credential-name').getByTestId('inline-edit-input').fill(name);
	await form.page().keyboard.press('Enter');
}

async function saveCredential(): Promise<void> {
	await page.getByTestId('credential-save-button').click();
}

async function closeCredential(): Promise<void> {
	await page.keyboard.press('Escape');
	await page.getByTestId('credential-edit-dialog').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The success banner of n8n's credential test; then its Retry button (the test button) once more. */
async function expectCredentialTestSuccess(form: Locator, shotName: string, docsName?: string): Promise<void> {
	const success = form.getByTestId('credentials-config-container-test-success');
	await expectText(success, 'the credential test result', ['Connection tested successfully'], 60_000);
	await screenshot(page, shotName, docsName);
	await form.getByRole('button', { name: 'Retry' }).click();
	await expectText(success, 'the credential test result after Retry', ['Connection tested successfully'], 60_000);
}

/** n8n's failed-test banner: "Couldn't connect with these settings", then our message under "More details". */
async function expectCredentialTestFailure(form: Locator, fix: Array<string | RegExp>, shotName: string): Promise<string> {
	await expectText(form, 'the failed credential test banner', ['with these settings'], 60_000);
	await form.getByText('More details').click();
	const text = await expectText(form, 'the credential test message', fix, 10_000);
	await screenshot(page, shotName);
	return text;
}

/** The ID n8n gave a credential made through the form (to pick it by n8n's data-test-id). */
async function credentialId(name: string): Promise<string> {
	const response = await env.api.rest<{ data: Array<{ id: string; name: string }> }>('GET', '/credentials');
	const found = response.body.data.find((c) => c.name === name);
	if (!found) throw new Error(`no credential named "${name}" in n8n`);
	return found.id;
}

function liveSubscriptions(urlPart: string): StoredSubscription[] {
	return env.sim.subscriptions().filter((s) => s.notificationUrl.includes(urlPart) && s.resource.includes(adele.id));
}

async function playCall(subscription: StoredSubscription, direction: 'incoming' | 'outgoing'): Promise<void> {
	const event = env.sim.buildCallEvent(subscription, { kind: 'started', direction });
	// Delivered as Graph does, retrying any answer but a 2xx: the subscription is visible in the simulator a
	// moment before the trigger has saved it (create() is still returning), and a notification in that moment
	// is answered 401 and delivered again.
	const [result] = await env.sim.sendBatch([env.sim.notificationFor(subscription, event)], { retries: 4, retryDelayMs: 1_000 });
	expect(result.status).toBe(202);
}

async function publish(): Promise<void> {
	const open = page.getByTestId('workflow-open-publish-modal-button');
	await expectVisible(open, 'the Publish button');
	await open.click();
	const confirm = page.getByTestId('workflow-publish-button');
	await expectVisible(confirm, 'the Publish button of the publish dialog');
	await confirm.click();
}

describe('n8n editor in Chromium: the Teams call trigger as a person meets it', () => {
	it('1a. sign in', async () => {
		await page.goto('/signin');
		await expectVisible(page.getByTestId('emailOrLdapLoginId').locator('input'), 'the sign-in e-mail field', 90_000);
		await page.getByTestId('emailOrLdapLoginId').locator('input').fill(OWNER.email);
		await page.getByTestId('password').locator('input').fill(OWNER.password);
		await page.getByTestId('form-submit-button').click();
		await expectVisible(page.getByRole('button', { name: 'Create workflow' }), 'the overview after signing in', 90_000);
	});

	it('1b. the app credential through its form (Custom cloud -> simulator): the test succeeds; a wrong secret names the fix', async () => {
		let form = await openNewCredential('Microsoft Graph App (Client Credentials) API');
		await form.getByTestId('parameter-input-cloud').click();
		await page.getByRole('option', { name: /^Custom/ }).click();
		await fillField(form, 'customLoginHost', env.sim.loginBaseUrl);
		await fillField(form, 'customGraphBaseUrl', env.sim.graphBaseUrl);
		await fillField(form, 'tenantId', TENANT);
		await fillField(form, 'clientId', CLIENT_ID);
		await fillField(form, 'clientSecret', env.clientSecret);
		await nameCredential(form, APP_CREDENTIAL);
		await saveCredential();
		await expectCredentialTestSuccess(form, '1-app-credential-tested', 'app-credential');
		await closeCredential();

		form = await openNewCredential('Microsoft Graph App (Client Credentials) API');
		await form.getByTestId('parameter-input-cloud').click();
		await page.getByRole('option', { name: /^Custom/ }).click();
		await fillField(form, 'customLoginHost', env.sim.loginBaseUrl);
		await fillField(form, 'customGraphBaseUrl', env.sim.graphBaseUrl);
		await fillField(form, 'tenantId', TENANT);
		await fillField(form, 'clientId', CLIENT_ID);
		await fillField(form, 'clientSecret', 'e2e~not-the-secret');
		await nameCredential(form, 'Teams app (wrong secret)');
		await saveCredential();
		const shown = await expectCredentialTestFailure(
			form,
			['The client secret is wrong', "copy the secret's Value", 'not its Secret ID', 'AADSTS7000215'],
			'1-app-credential-wrong-secret',
		);
		expect(shown).not.toContain(env.clientSecret);
		expect(shown).not.toContain('e2e~not-the-secret');
		await closeCredential();
	});

	it('1c. the notification certificate pasted as PEM: the test succeeds; a key of another certificate names the fix', async () => {
		let form = await openNewCredential('Microsoft Graph Notification Encryption Certificate API');
		await expectText(form, 'the certificate notice', ['npx n8n-nodes-teams-calls generate-certificate']);
		await fillField(form, 'certificatePem', env.certificate.certificatePem);
		await fillField(form, 'privateKeyPem', env.certificate.privateKeyPem);
		await nameCredential(form, CERTIFICATE_CREDENTIAL);
		await saveCredential();
		await expectCredentialTestSuccess(form, '1-certificate-credential-tested');
		await closeCredential();

		const other = generateEncryptionCertificate(mkdtempSync(path.join(os.tmpdir(), 'teams-calls-editor-other-')));
		form = await openNewCredential('Microsoft Graph Notification Encryption Certificate API');
		await fillField(form, 'certificatePem', env.certificate.certificatePem);
		await fillField(form, 'privateKeyPem', other.privateKeyPem);
		await nameCredential(form, 'Notification certificate (wrong key)');
		await saveCredential();
		const shown = await expectCredentialTestFailure(
			form,
			['The private key does not belong to the certificate', 'use the key that was generated with this certificate'],
			'1-certificate-credential-wrong-key',
		);
		expect(shown).not.toContain('PRIVATE KEY-----\n');
		await closeCredential();
	});

	it('2. the trigger from the node picker ("Teams call"): icon, name, parameters and subtitle render', async () => {
		await page.goto('/workflow/new');
		await expectVisible(page.getByTestId('canvas-add-button'), 'the "Add first step" button of a new workflow', 60_000);
		await page.getByTestId('canvas-add-button').click();
		await page.getByTestId('node-creator-search-bar').fill('Teams call');
		const item = page.getByTestId('node-creator').getByTestId('item-iterator-item').filter({ hasText: 'Microsoft Teams Call' });
		await expectText(item, 'the trigger in the node picker', ['Microsoft Teams Call', "Starts the workflow when a watched user's Microsoft Teams call starts or ends"]);
		await expectVisible(item.locator('img[src*="microsoftTeamsCall"]'), "the trigger's icon in the node picker");
		await screenshot(page, '2-node-picker');
		await item.first().click();
		// n8n lists a trigger's events as actions; "On call started" adds the node with that event.
		const action = page.getByTestId('node-creator').getByTestId('item-iterator-item').filter({ hasText: 'On call started' });
		await expectVisible(action, 'the action "On call started"');
		await action.first().click();

		const ndv = await expectVisible(page.getByTestId('ndv'), 'the node panel');
		await expectText(ndv.getByTestId('node-title-container'), 'the node title', ['Microsoft Teams Call Trigger']);
		await expectText(ndv, 'the setup notice', ['CallEvents.Read.All', 'User.Read.All', 'N8N_WEBHOOK_URL']);
		await expectText(ndv.getByTestId('node-parameters'), 'the parameters', ['Users', 'Add User', 'Events', 'Directions', 'Options']);
		await expectText(ndv.getByTestId('parameter-input-events'), 'the Events field', ['Call Started']);
		await expectText(ndv.getByTestId('parameter-input-directions'), 'the Directions field', ['Incoming', 'Outgoing']);

		// Both credentials, each from its own list.
		const slots = ndv.getByTestId('node-credentials-slot');
		await expectVisible(slots, 'the credential selectors');
		expect(await slots.count()).toBe(2);
		// Each selector says which credential it wants.
		await expectText(slots.nth(0), 'the app credential selector\'s label', ['Azure App']);
		await expectText(slots.nth(1), 'the certificate credential selector\'s label', ['Notification Certificate']);
		const wanted = [await credentialId(APP_CREDENTIAL), await credentialId(CERTIFICATE_CREDENTIAL)];
		// A selector shows its choice as the value of its input or as text, by element-plus version.
		const shown = (i: number) =>
			slots
				.nth(i)
				.getByTestId('node-credentials-select')
				.evaluate((select) => (select.querySelector('input')?.value || select.textContent || '').trim());
		for (let i = 0; i < 2; i++) {
			// n8n may pick a credential itself while the list opens; try again until ours is shown.
			for (let attempt = 1; ![APP_CREDENTIAL, CERTIFICATE_CREDENTIAL].includes(await shown(i)); attempt++) {
				if (attempt > 3) throw new Error(`credential selector ${i + 1} shows "${await shown(i)}", not "${APP_CREDENTIAL}" or "${CERTIFICATE_CREDENTIAL}"`);
				await slots.nth(i).getByTestId('node-credentials-select').click();
				// Each selector lists the credentials of its own type only; the other's closed list stays in the page, hidden.
				const choice = page
					.getByTestId(`node-credentials-select-item-${wanted[0]}`)
					.or(page.getByTestId(`node-credentials-select-item-${wanted[1]}`))
					.filter({ visible: true });
				await expectVisible(choice, `"${APP_CREDENTIAL}" or "${CERTIFICATE_CREDENTIAL}" in credential selector ${i + 1}`);
				await choice.first().click({ timeout: 5000 }).catch(() => undefined);
				await page.waitForTimeout(300);
			}
		}
		const selected = [await shown(0), await shown(1)];
		expect(selected.sort()).toEqual([CERTIFICATE_CREDENTIAL, APP_CREDENTIAL].sort());

		await ndv.getByRole('button', { name: 'Add User' }).click();
		const user = ndv.getByTestId('parameter-input-users').locator('input').first();
		await expectVisible(user, 'the first user field');
		await user.fill(adele.userPrincipalName);
		await screenshot(page, '2-node-panel', 'node-panel');
	});

	it('3. "listen for test event" and one call played by the simulator: the item is in the output panel', async () => {
		const ndv = page.getByTestId('ndv');
		await ndv.getByTestId('node-execute-button').click();
		await expectText(ndv.getByTestId('output-panel'), 'the listening state', [/Stop Listening/i]);
		const [subscription] = await waitFor('the test subscription for adele', () => {
			const found = liveSubscriptions('/webhook-test/');
			return found.length === 1 ? found : undefined;
		}, 60_000);
		await playCall(subscription, 'incoming');
		const output = ndv.getByTestId('output-panel');
		await expectText(output, 'the output panel', [
			'1 item',
			'event',
			'direction',
			'userId',
			'userPrincipalName',
			'userDisplayName',
			'callStarted',
			'incoming',
			adele.id,
			adele.userPrincipalName,
			adele.displayName,
		], 60_000);
		await screenshot(page, '3-output-panel', 'execution-output');
		// The manual run's subscription is deleted when listening ends.
		await waitFor('the test subscription to be deleted', () => liveSubscriptions('/webhook-test/').length === 0, 30_000);
		await page.getByTestId('ndv-close-button').click();
		await expectVisible(page.getByTestId('canvas-trigger-node'), 'the trigger on the canvas');
		await expectText(page.getByTestId('canvas-node').first(), 'the node on the canvas', ['Microsoft Teams Call Trigger', 'Call Started']);
		workflowId = /\/workflow\/([^/?#]+)/.exec(page.url())?.[1] ?? '';
		expect(workflowId).not.toBe('');
		await screenshot(page, '3-canvas');
	});

	it('4. publish, play calls: the executions list shows them', async () => {
		await publish();
		const published = page.getByRole('dialog').filter({ hasText: 'Workflow published' });
		await expectText(published, 'the "Workflow published" dialog', ['Microsoft Graph now sends call events for the watched users'], 60_000);
		await screenshot(page, '4-published');
		await published.getByRole('button', { name: 'Got it' }).click();
		const [subscription] = await waitFor('the production subscription for adele', () => {
			const found = liveSubscriptions('/webhook/');
			return found.length === 1 ? found : undefined;
		}, 60_000);
		// n8n saves the activation's static data (the clientStates) only when publishing is finished.
		await waitFor('n8n to finish publishing', async () => {
			const status = await env.api.rest<{ data?: { status?: string } }>('GET', `/workflows/${workflowId}/publication-status`);
			return status.body?.data?.status === 'published' ? true : undefined;
		}, 30_000, 200);
		await playCall(subscription, 'incoming');
		await playCall(subscription, 'outgoing');

		await page.getByTestId('radio-button-executions').click();
		const list = await expectVisible(page.getByTestId('executions-sidebar'), 'the executions list');
		const entries = list.locator('[data-test-id^="execution-details-"]');
		await waitFor('three executions in the list (one manual, two calls)', async () => ((await entries.count()) === 3 ? true : undefined), 60_000, 500);
		await expectText(list, 'the executions list', [/Succeeded/]);
		expect(await list.getByText(/Succeeded/).count()).toBe(3);
		await screenshot(page, '4-executions', 'executions');
	});

	/** A workflow made over the API (setup, not under test), opened in the editor and published there. */
	async function expectActivationError(
		workflowName: string,
		users: string[],
		appCredential: { id: string; name: string },
		message: Array<string | RegExp>,
		shotName: string,
	): Promise<void> {
		const trigger = {
			id: randomUUID(),
			name: 'Teams Call Trigger',
			type: env.nodeType,
			typeVersion: 2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: { users, events: ['callStarted', 'callEnded'], directions: ['incoming', 'outgoing'], options: {} },
			credentials: { microsoftGraphAppApi: appCredential, microsoftGraphNotificationCertificateApi: env.credentials.certificate },
		};
		const { id } = await env.api.createWorkflow({ name: workflowName, nodes: [trigger], connections: {}, settings: { executionOrder: 'v1' } });
		await page.goto(`/workflow/${id}`);
		await expectVisible(page.getByTestId('canvas-trigger-node'), `the trigger of "${workflowName}" on the canvas`, 60_000);
		await publish();
		const toast = page.locator('.el-notification').filter({ hasText: message[0] });
		await expectText(toast, `n8n's activation error for "${workflowName}"`, message, 60_000);
		await screenshot(page, shotName);
		expect(await toast.first().innerText()).not.toContain(env.clientSecret);
		await page.keyboard.press('Escape');
	}

	it('5a. publishing with a user the directory does not have: n8n shows the activation error with our message', async () => {
		await expectActivationError(
			'Teams calls (unknown user)',
			['nobody@contoso.test'],
			env.credentials.app,
			['nobody@contoso.test', 'was not found in the tenant', "enter the user's object ID"],
			'5-activation-unknown-user',
		);
	});

	it('5b. publishing with an app that lacks CallEvents.Read.All: n8n shows the activation error with our message', async () => {
		// A second app registration in the same tenant, consented to User.Read.All only.
		const clientId = '33333333-aaaa-4bbb-8ccc-000000000002';
		const clientSecret = `e2e~${randomUUID()}`;
		env.sim.registerApp({ tenantId: TENANT, clientId, secrets: [{ value: clientSecret }], permissions: ['User.Read.All'] });
		const app = await env.api.createCredential('App without CallEvents.Read.All', 'microsoftGraphAppApi', { ...simulatorAppCredential(env.sim, clientSecret), clientId });
		await expectActivationError(
			'Teams calls (permission missing)',
			[USERS[1].userPrincipalName],
			app,
			['not allowed to subscribe', 'CallEvents.Read.All', 'Grant admin consent'],
			'5-activation-permission-missing',
		);
	});
});
