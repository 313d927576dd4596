import { X509Certificate } from 'node:crypto';

import { capturedLogs, TriggerHarness } from '../../support/n8nTriggerHarness';
import {
	appCredentialFor,
	certificateCredential,
	CLIENT_ID,
	encryptionCertificate,
	startTriggerFixture,
	USERS,
	type TriggerFixture,
} from '../../support/triggerFixture';

const [adele, bianca, cyril] = USERS;
let fixture: TriggerFixture;

afterEach(async () => fixture?.close());

describe('activation through n8n-core contexts against the Graph simulator', () => {
	it('creates one rich subscription per watched user, with its URL validated as both URLs', async () => {
		fixture = await startTriggerFixture({ users: [adele.userPrincipalName, bianca.id] });
		const { sim, harness } = fixture;
		await harness.activate();

		const subscriptions = sim.subscriptions();
		expect(subscriptions).toHaveLength(2);
		const der = new X509Certificate(encryptionCertificate.certificatePem).raw.toString('base64');
		for (const user of [adele, bianca]) {
			const subscription = subscriptions.find((candidate) => candidate.resource === `users/${user.id}/callConversations`);
			expect(subscription).toMatchObject({
				changeType: 'updated',
				notificationUrl: harness.url('notify'),
				lifecycleNotificationUrl: harness.url('notify'),
				includeResourceData: true,
				encryptionCertificate: der,
				encryptionCertificateId: 'teams-calls-test-cert',
				latestSupportedTlsVersion: 'v1_2',
				applicationId: CLIENT_ID,
			});
			expect(subscription?.clientState).toMatch(/^[A-Za-z0-9_-]{64}$/);
			const lifetimeMs = Date.parse(subscription!.expirationDateTime) - Date.now();
			expect(lifetimeMs).toBeGreaterThan(1439 * 60_000);
			expect(lifetimeMs).toBeLessThanOrEqual(1440 * 60_000);
		}
		expect(subscriptions[0].clientState).not.toBe(subscriptions[1].clientState);

		// Graph validated both URLs of each subscription (the same one), and each answered correctly.
		const handshakes = sim.handshakes;
		expect(handshakes.filter((h) => h.url.startsWith(harness.url('notify')))).toHaveLength(4);
		expect(handshakes.every((h) => h.outcome === 'ok')).toBe(true);
		expect(harness.executions).toHaveLength(0);

		// The saved state has ids, clientStates, expiry and users, and no secret of the credentials.
		const saved = JSON.stringify(harness.staticData);
		expect(saved).toContain(subscriptions[0].id);
		expect(saved).not.toMatch(/PRIVATE KEY|secret-value/);
	});

	it('is idempotent: checkExists finds everything alive and creates nothing more', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		sim.clearRequests();
		await harness.activate('init');
		expect(sim.subscriptions()).toHaveLength(2);
		expect(sim.countRequests({ method: 'POST', path: /\/subscriptions$/ })).toBe(0);
		expect(sim.countRequests({ method: 'GET', path: /\/subscriptions\// })).toBe(2);
	});

	it('replaces a leftover subscription at its own URL instead of duplicating it', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const first = sim.subscriptions()[0];
		// The saved state is lost (for example a workflow restored from an old export), then n8n starts.
		fixture.restart();
		harness.savedStaticData = '{}';
		await harness.activate();
		const now = sim.subscriptions();
		expect(now).toHaveLength(1);
		expect(now[0].id).not.toBe(first.id);
	});

	it('deletes every subscription on deactivation, counting 404 as deleted', async () => {
		fixture = await startTriggerFixture({ users: [adele.id, bianca.id, cyril.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const [gone] = sim.subscriptions();
		sim.removeSubscription(gone.id);
		await harness.deactivate();
		expect(sim.subscriptions()).toHaveLength(0);
		expect(harness.staticData).toEqual({});
		expect(capturedLogs.some((line) => line.message.includes(`Graph subscription ${gone.id} was already gone`))).toBe(true);
	});

	it('says which permission and consent are missing when Graph answers 403', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] }, { permissions: ['User.Read.All'] });
		await expect(fixture.harness.activate()).rejects.toThrow(
			/aaaaaaaa-0000-4000-8000-000000000001: the app is not allowed .*CallEvents\.Read\.All.*Grant admin consent.*Graph said: ExtensionError/,
		);
	});

	it('explains a user principal name that does not exist, and one the app may not look up', async () => {
		fixture = await startTriggerFixture({ users: ['nobody@contoso.test'] });
		await expect(fixture.harness.activate()).rejects.toThrow(/User nobody@contoso.test was not found in the tenant/);
		await fixture.close();
		fixture = await startTriggerFixture({ users: [adele.userPrincipalName] }, { permissions: ['CallEvents.Read.All'] });
		await expect(fixture.harness.activate()).rejects.toThrow(/Grant the application permission User\.Read\.All .* or enter the user's object ID/);
	});

	it('refuses a webhook URL that is not HTTPS and says how to fix it', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] }, { plainHttp: true });
		await expect(fixture.harness.activate()).rejects.toThrow(/only delivers to HTTPS URLs, and this trigger's URL is http:\/\/localhost/);
		expect(fixture.sim.countRequests({ method: 'POST', host: 'graph' })).toBe(0);
	});

	it('explains a webhook URL Graph cannot validate', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] }, { simulator: { requireTextPlainValidation: true } });
		// Graph cannot reach this URL: n8n is not published under it.
		fixture.harness.baseUrl = 'https://localhost:9';
		await expect(fixture.harness.activate()).rejects.toThrow(/could not validate the webhook URL https:\/\/localhost:9\/webhook\/.*N8N_WEBHOOK_URL.*Graph said: InvalidRequest/);
	});

	it('adopts a subscription of ours that the saved state lost track of, instead of duplicating it', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const { sim, harness } = fixture;
		await harness.activate();
		const original = sim.subscriptions()[0];
		// The saved state lost the ID (for example the timer recreated it and n8n restarted before saving).
		const saved = JSON.parse(harness.savedStaticData);
		delete saved['node:Teams Call Trigger'].teamsCallSubscriptions.slots[0].subscriptionId;
		harness.savedStaticData = JSON.stringify(saved);
		fixture.restart();
		sim.clearRequests();
		await harness.activate('init');
		expect(sim.subscriptions().map((s) => s.id)).toEqual([original.id]);
		expect(sim.countRequests({ method: 'POST', path: /\/subscriptions$/ })).toBe(0);
		expect(JSON.stringify(harness.staticData)).toContain(original.id);
	});

	it('names the other URL when Graph refuses a second subscription for the same user (409)', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] });
		const other = await TriggerHarness.start({
			parameters: { users: [adele.id] },
			appCredential: appCredentialFor(fixture.sim),
			certificateCredential,
			workflowId: 'wf-other',
			webhookId: '9c9c9c9c-3333-4c3b-8f00-000000000009',
		});
		try {
			await other.activate();
			await expect(fixture.harness.activate()).rejects.toThrow(
				new RegExp(`${adele.id}: this app already has subscription .* delivering to ${other.url('notify').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*deactivate the other workflow`),
			);
			expect(fixture.sim.subscriptions()).toHaveLength(1);
		} finally {
			await other.close();
		}
	});
});
