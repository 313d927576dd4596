import { constants, createHmac, createPrivateKey, createPublicKey, privateDecrypt, createDecipheriv, timingSafeEqual, verify, type JsonWebKey } from 'crypto';
import { ACK_WINDOW_MS } from './delivery';
import { startGraphSimulator, CALL_EVENT_TYPES, GRAPH_CHANGE_TRACKING_APP_ID, type EncryptedContent, type GraphSimulator, type StoredSubscription } from './index';
import { accessToken, CLIENT_ID, graphCall, makeSelfSignedCertificate, seedStandardTenant, subscriptionRequest, TENANT_ID, USER, type KeyAndCertificate } from './fixtures';
import { startWebhookReceiver, type WebhookReceiver } from './webhookReceiver';

/** Graph's sending side: payloads, encryption, validation tokens, batching and delivery with retries. */
describe('simulated Graph notification sender', () => {
	let sim: GraphSimulator;
	let receiver: WebhookReceiver;
	let lifecycleReceiver: WebhookReceiver;
	let encryption: KeyAndCertificate;
	let subscription: StoredSubscription;
	let callEventsSubscription: StoredSubscription;

	beforeAll(async () => {
		sim = await startGraphSimulator();
		seedStandardTenant(sim);
		receiver = await startWebhookReceiver();
		lifecycleReceiver = await startWebhookReceiver();
		encryption = makeSelfSignedCertificate('encryption');
		const token = await accessToken(sim);
		const a = await graphCall(sim, token, 'POST', '/beta/subscriptions', {
			...subscriptionRequest(receiver.url, encryption, Date.now()),
			lifecycleNotificationUrl: lifecycleReceiver.url,
		});
		const b = await graphCall(sim, token, 'POST', '/beta/subscriptions', {
			...subscriptionRequest(receiver.url, encryption, Date.now()),
			resource: `users/${USER.id}/communications/callEvents`,
		});
		subscription = sim.getSubscription(String(a.body?.id))!;
		callEventsSubscription = sim.getSubscription(String(b.body?.id))!;
	});
	afterAll(async () => {
		await receiver.close();
		await lifecycleReceiver.close();
		await sim.close();
	});

	/** Graph's documented decryption, done independently of the simulator's code. */
	function decrypt(ec: EncryptedContent, privateKeyPem: string): unknown {
		const key = privateDecrypt(
			{ key: createPrivateKey(privateKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
			Buffer.from(ec.dataKey, 'base64'),
		);
		expect(key).toHaveLength(32);
		const data = Buffer.from(ec.data, 'base64');
		const mac = createHmac('sha256', key).update(data).digest();
		expect(timingSafeEqual(mac, Buffer.from(ec.dataSignature, 'base64'))).toBe(true);
		const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
		return JSON.parse(Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8'));
	}

	it('builds call events in the seed document’s shape', () => {
		const started = sim.buildCallEvent(subscription, { kind: 'started', direction: 'outgoing', callId: 'call-1' });
		expect(started).toMatchObject({
			'@odata.type': '#Microsoft.Graph.CallConversation',
			'@odata.id': `/users/${USER.id}/callConversations`,
			id: `/users/${USER.id}/callConversations`,
			eventType: CALL_EVENT_TYPES.callConversations.started,
			direction: 'outgoing',
			callId: 'call-1',
		});
		expect(String(started.csUrl)).toMatch(/^https:\/\/api\.flightproxy\.teams\.microsoft\.com\//);
		const ended = sim.buildCallEvent(callEventsSubscription, { kind: 'ended', callId: null, eventType: 'callEnded', extra: { direction: undefined, x: 1 } });
		expect(ended).toMatchObject({ '@odata.type': '#microsoft.graph.callEvent', eventType: 'callEnded', x: 1 });
		expect(ended).not.toHaveProperty('callId');
		expect(ended).not.toHaveProperty('direction');
	});

	it('encrypts exactly as Graph does: decrypts with Node crypto and the private key', () => {
		const resource = sim.buildCallEvent(subscription, { kind: 'started', extra: { note: 'Grüße ☎' } });
		const item = sim.notificationFor(subscription, resource);
		expect(item).toMatchObject({
			subscriptionId: subscription.id,
			subscriptionExpirationDateTime: subscription.expirationDateTime,
			changeType: 'updated',
			resource: subscription.resource,
			clientState: 'client-state-secret',
			tenantId: TENANT_ID,
			resourceData: { '@odata.type': resource['@odata.type'], '@odata.id': resource['@odata.id'], id: resource.id },
		});
		expect(item.encryptedContent.encryptionCertificateId).toBe('enc-cert-1');
		expect(item.encryptedContent.encryptionCertificateThumbprint).toBe(encryption.thumbprintSha1);
		expect(decrypt(item.encryptedContent, encryption.privateKeyPem)).toEqual(resource);
		// A fresh key per item.
		expect(sim.encryptForSubscription(subscription, resource).dataKey).not.toBe(item.encryptedContent.dataKey);
	});

	it('builds lifecycle notifications', () => {
		expect(sim.lifecycleNotificationFor(subscription, 'reauthorizationRequired')).toEqual({
			subscriptionId: subscription.id,
			subscriptionExpirationDateTime: subscription.expirationDateTime,
			tenantId: TENANT_ID,
			clientState: 'client-state-secret',
			lifecycleEvent: 'reauthorizationRequired',
		});
	});

	it('signs validation tokens that verify against the served JWKS', async () => {
		const jwks = (await (await fetch(`${sim.loginBaseUrl}/common/discovery/v2.0/keys`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
		const check = (token: string) => {
			const [h, p, s] = token.split('.');
			const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
			const jwk = jwks.keys.find((k) => k.kid === header.kid);
			const valid = !!jwk && verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
			return { header, valid, claims: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> };
		};
		const good = check(sim.validationTokenFor(CLIENT_ID, TENANT_ID));
		expect(good.valid).toBe(true);
		expect(good.header.alg).toBe('RS256');
		expect(good.claims).toMatchObject({
			aud: CLIENT_ID,
			appid: GRAPH_CHANGE_TRACKING_APP_ID,
			azp: GRAPH_CHANGE_TRACKING_APP_ID,
			iss: `https://sts.windows.net/${TENANT_ID}/`,
			tid: TENANT_ID,
			ver: '1.0',
		});
		expect(Number(good.claims.exp) - Number(good.claims.iat)).toBe(3600);
		expect(check(sim.validationTokenFor(CLIENT_ID, TENANT_ID, { appid: 'evil', azp: undefined })).claims).not.toHaveProperty('azp');
		expect(check(sim.validationTokenFor(CLIENT_ID, TENANT_ID, {}, { foreignKey: true })).valid).toBe(false);
	});

	it('sends batches to the right endpoints with one validation token per app and tenant', async () => {
		const started = sim.notificationFor(subscription, sim.buildCallEvent(subscription, { kind: 'started' }));
		const other = sim.notificationFor(callEventsSubscription, sim.buildCallEvent(callEventsSubscription, { kind: 'started' }));
		const lifecycle = sim.lifecycleNotificationFor(subscription, 'reauthorizationRequired');
		const before = { main: receiver.notifications().length, life: lifecycleReceiver.notifications().length };
		const results = await sim.sendBatch([started, other, lifecycle]);
		expect(results.map((r) => [r.url, r.delivered, r.status])).toEqual([
			[receiver.url, true, 202],
			[lifecycleReceiver.url, true, 202],
		]);
		const main = JSON.parse(receiver.notifications()[before.main].body) as { value: { subscriptionId: string }[]; validationTokens: string[] };
		expect(main.value.map((v) => v.subscriptionId)).toEqual([subscription.id, callEventsSubscription.id]);
		expect(main.validationTokens).toHaveLength(1);
		const life = JSON.parse(lifecycleReceiver.notifications()[before.life].body) as Record<string, unknown>;
		expect(life).toEqual({ value: [lifecycle] });
		expect(String(receiver.notifications()[before.main].headers['content-type'])).toMatch(/^application\/json/);
	});

	it('retries failed deliveries with back-off and records every attempt with its response time', async () => {
		let calls = 0;
		const flaky = await startWebhookReceiver({
			respond: async (_req, res) => {
				calls++;
				if (calls <= 2) {
					res.writeHead(503);
					res.end('busy');
					return true;
				}
				await new Promise((r) => setTimeout(r, 120));
				res.writeHead(202);
				res.end();
				return true;
			},
		});
		try {
			const result = await sim.deliver(flaky.url, { value: [] }, { retries: 4, retryDelayMs: 20 });
			expect(result.delivered).toBe(true);
			expect(result.attempts.map((a) => a.status)).toEqual([503, 503, 202]);
			expect(result.attempts[0].bodyText).toBe('busy');
			expect(result.attempts[2].responseTimeMs).toBeGreaterThanOrEqual(110);
			expect(result.attempts.every((a) => a.withinAckWindow)).toBe(true);
			// Back-off: 20 ms then 40 ms between attempts.
			expect(result.attempts[2].time - result.attempts[0].time).toBeGreaterThanOrEqual(55);
			expect(sim.deliveries.filter((d) => d.url === flaky.url)).toHaveLength(3);
		} finally {
			await flaky.close();
		}
	});

	it('delivers again when the first answer is a 2xx later than Graph\'s 3 s ack window', async () => {
		let calls = 0;
		const slowFirst = await startWebhookReceiver({
			respond: async (_req, res) => {
				calls++;
				if (calls === 1) await new Promise((r) => setTimeout(r, ACK_WINDOW_MS + 300));
				res.writeHead(202);
				res.end();
				return true;
			},
		});
		try {
			const result = await sim.deliver(slowFirst.url, { value: [] }, { retries: 2, retryDelayMs: 20 });
			expect(result.delivered).toBe(true);
			expect(result.attempts.map((a) => [a.status, a.withinAckWindow])).toEqual([
				[202, false],
				[202, true],
			]);
		} finally {
			await slowFirst.close();
		}
	});

	it('gives up after the retry budget, including on network errors', async () => {
		const gone = await startWebhookReceiver();
		const url = gone.url;
		await gone.close();
		const result = await sim.deliver(url, { value: [] }, { retries: 2, retryDelayMs: 5 });
		expect(result.delivered).toBe(false);
		expect(result.attempts).toHaveLength(3);
		expect(result.attempts.every((a) => a.status === undefined && typeof a.error === 'string')).toBe(true);
	});
});
