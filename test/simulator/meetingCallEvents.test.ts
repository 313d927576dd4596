import { constants, createDecipheriv, privateDecrypt } from 'crypto';

import { startGraphSimulator, type GraphSimulator, type StoredSubscription } from './index';
import { accessToken, CLIENT_ID, graphCall, makeSelfSignedCertificate, seedStandardTenant, TENANT_ID, USER } from './fixtures';
import { startWebhookReceiver, type WebhookReceiver } from './webhookReceiver';

const JOIN_URL = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzM4YmJh%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
const keyed = (joinUrl: string) => `communications/onlineMeetings(joinWebUrl='${encodeURIComponent(joinUrl).replace(/'/g, '%27')}')/meetingCallEvents`;

/** communications/onlineMeetings(joinWebUrl='…')/meetingCallEvents as Graph beta documents it. */
describe('simulated meeting call events', () => {
	let sim: GraphSimulator;
	let receiver: WebhookReceiver;
	let token: string;
	const clock = Date.now();
	const encryption = makeSelfSignedCertificate();

	beforeAll(async () => {
		sim = await startGraphSimulator({ now: () => clock, validationTimeoutMs: 1500 });
		seedStandardTenant(sim, ['OnlineMeetings.Read.All']);
		sim.addMeeting(JOIN_URL, USER.id);
		sim.grantMeetingAccessPolicy(CLIENT_ID);
		receiver = await startWebhookReceiver();
		token = await accessToken(sim);
	});
	afterAll(async () => {
		await receiver.close();
		await sim.close();
	});
	afterEach(async () => {
		for (const subscription of sim.subscriptions()) await graphCall(sim, token, 'DELETE', `/beta/subscriptions/${subscription.id}`);
		sim.grantMeetingAccessPolicy(CLIENT_ID);
	});

	const request = (overrides: Record<string, unknown> = {}) => ({
		changeType: 'updated',
		notificationUrl: receiver.url,
		lifecycleNotificationUrl: receiver.url,
		resource: keyed(JOIN_URL),
		expirationDateTime: new Date(clock + 4230 * 60_000).toISOString(),
		clientState: 'client-state-secret',
		includeResourceData: true,
		encryptionCertificate: encryption.certBase64,
		encryptionCertificateId: 'enc-cert-1',
		...overrides,
	});
	const create = (overrides: Record<string, unknown> = {}, version = 'beta') => graphCall(sim, token, 'POST', `/${version}/subscriptions`, request(overrides));
	const errorOf = (body: Record<string, unknown> | undefined) => (body as { error: { code: string; message: string } }).error;

	describe('subscriptions', () => {
		it('accepts a meeting, rich, updated, for 4,230 minutes, renewable to the same', async () => {
			const res = await create();
			expect(res.status).toBe(201);
			expect(res.body).toMatchObject({ resource: keyed(JOIN_URL), changeType: 'updated', includeResourceData: true });
			const renewed = await graphCall(sim, token, 'PATCH', `/beta/subscriptions/${String(res.body?.id)}`, {
				expirationDateTime: new Date(clock + 4230 * 60_000).toISOString(),
			});
			expect(renewed.status).toBe(200);
		});

		it('accepts basic notifications and the earlier filter form of the resource', async () => {
			const res = await create({
				resource: `communications/onlineMeetings/?$filter=JoinWebUrl eq '${JOIN_URL}'`,
				includeResourceData: undefined,
				encryptionCertificate: undefined,
				encryptionCertificateId: undefined,
			});
			expect(res.status).toBe(201);
		});

		it('is beta only', async () => {
			const res = await create({}, 'v1.0');
			expect(res.status).toBe(400);
			expect(errorOf(res.body).message).toMatch(/not supported .* v1\.0/);
		});

		it.each([['created'], ['deleted'], ['created,updated']])('refuses changeType %s', async (changeType) => {
			const res = await create({ changeType });
			expect(res.status).toBe(400);
			expect(errorOf(res.body).message).toMatch(/Supported change types: updated/);
		});

		it('refuses more than 4,230 minutes', async () => {
			const res = await create({ expirationDateTime: new Date(clock + 4231 * 60_000).toISOString() });
			expect(res.status).toBe(400);
			expect(errorOf(res.body).message).toMatch(/4230 minutes/);
		});

		it('allows one subscription per app per meeting', async () => {
			expect((await create()).status).toBe(201);
			const second = await create({ notificationUrl: `${receiver.url}?other` , lifecycleNotificationUrl: `${receiver.url}?other` });
			expect(second.status).toBe(409);
			const otherForm = await create({ resource: `communications/onlineMeetings/?$filter=JoinWebUrl eq '${JOIN_URL}'` });
			expect(otherForm.status).toBe(409);
		});

		it('answers 404 for a meeting the tenant does not have', async () => {
			const res = await create({ resource: keyed('https://teams.microsoft.com/l/meetup-join/19%3ameeting_unknown%40thread.v2/0') });
			expect(res.status).toBe(404);
			expect(errorOf(res.body).message).toMatch(/was not found/);
		});

		it('answers 403 without an application access policy, and without the permission', async () => {
			sim.revokeMeetingAccessPolicy(CLIENT_ID);
			const noPolicy = await create();
			expect(noPolicy.status).toBe(403);
			expect(errorOf(noPolicy.body).message).toMatch(/No application access policy/);
			sim.grantMeetingAccessPolicy(CLIENT_ID);
			sim.setAppPermissions(TENANT_ID, CLIENT_ID, ['CallRecords.Read.All']);
			try {
				const other = await accessToken(sim);
				const res = await graphCall(sim, other, 'POST', '/beta/subscriptions', request());
				expect(res.status).toBe(403);
			} finally {
				sim.setAppPermissions(TENANT_ID, CLIENT_ID, ['OnlineMeetings.Read.All']);
			}
		});
	});

	describe('notifications', () => {
		const subscriptionOf = async (overrides: Record<string, unknown> = {}) => {
			const res = await create(overrides);
			expect(res.status).toBe(201);
			return sim.getSubscription(String(res.body?.id)) as StoredSubscription;
		};
		const decrypt = (content: { data: string; dataKey: string }) => {
			const key = privateDecrypt({ key: encryption.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(content.dataKey, 'base64'));
			const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
			return JSON.parse(Buffer.concat([decipher.update(Buffer.from(content.data, 'base64')), decipher.final()]).toString('utf8'));
		};

		it('builds the current spelling, encrypted, with the subscription resource and validation tokens', async () => {
			const subscription = await subscriptionOf();
			const event = sim.buildMeetingCallEvent({ kind: 'rosterUpdated', joined: [{ id: USER.id, displayName: USER.displayName }], left: [{ id: 'x', displayName: 'X' }] }, TENANT_ID);
			const item = sim.meetingNotificationFor(subscription, event);
			expect(item).toMatchObject({ changeType: 'updated', resource: subscription.resource, clientState: 'client-state-secret' });
			expect(item.resourceData).not.toHaveProperty('eventType');
			const opened = decrypt(item.encryptedContent as { data: string; dataKey: string });
			expect(opened.eventType).toBe('rosterUpdated');
			expect(opened['participants@delta']).toHaveLength(2);
			expect(opened['participants@delta'][1].removedState).toEqual({ reason: 'left' });
			const before = receiver.notifications().length;
			const [result] = await sim.sendBatch([item]);
			expect(result.status).toBe(202);
			const body = JSON.parse(receiver.notifications()[before].body) as { validationTokens?: string[] };
			expect(body.validationTokens).toHaveLength(1);
		});

		it('builds the earlier spelling, and basic notifications with the fields in resourceData and no tokens', async () => {
			const subscription = await subscriptionOf({ includeResourceData: undefined, encryptionCertificate: undefined, encryptionCertificateId: undefined });
			const event = sim.buildMeetingCallEvent({ kind: 'rosterUpdated', spelling: 'earlier', joined: [{ id: USER.id, displayName: USER.displayName }] }, TENANT_ID);
			expect(event.eventType).toBe('Microsoft.Communication.CallRosterUpdate');
			expect(event['activeParticipants@joined']).toEqual([expect.objectContaining({ identity: { User: { Id: USER.id, DisplayName: USER.displayName, TenantId: TENANT_ID } } })]);
			const item = sim.meetingNotificationFor(subscription, event);
			expect(item.encryptedContent).toBeUndefined();
			expect(item.resourceData).toMatchObject({ eventType: 'Microsoft.Communication.CallRosterUpdate' });
			const before = receiver.notifications().length;
			await sim.sendBatch([item]);
			expect(JSON.parse(receiver.notifications()[before].body)).not.toHaveProperty('validationTokens');
			expect(sim.buildMeetingCallEvent({ kind: 'callEnded', spelling: 'earlier' }).eventType).toBe('Microsoft.Communication.CallEnded');
			expect(sim.buildMeetingCallEvent({ kind: 'callStarted' }).eventType).toBe('callStarted');
		});
	});
});
