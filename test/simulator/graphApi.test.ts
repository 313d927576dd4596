import { startGraphSimulator, HANDSHAKE_MESSAGES, type GraphSimulator } from './index';
import {
	accessToken,
	CLIENT_ID,
	graphCall,
	makeSelfSignedCertificate,
	seedStandardTenant,
	subscriptionRequest,
	TENANT_ID,
	USER,
	type KeyAndCertificate,
} from './fixtures';
import { startWebhookReceiver, type WebhookReceiver } from './webhookReceiver';

/** The Graph host: auth, users, the subscription API with its validation handshake, expiry and faults. */
describe('simulated Microsoft Graph', () => {
	let sim: GraphSimulator;
	let receiver: WebhookReceiver;
	let token: string;
	let encryption: KeyAndCertificate;
	let clock = Date.now();
	const LIMITED_CLIENT = 'ffffffff-0000-0000-0000-000000000009';

	beforeAll(async () => {
		sim = await startGraphSimulator({ now: () => clock, pageSize: 2, validationTimeoutMs: 1500 });
		seedStandardTenant(sim);
		sim.registerApp({ tenantId: TENANT_ID, clientId: LIMITED_CLIENT, secrets: [{ value: 'limited' }], permissions: [] });
		receiver = await startWebhookReceiver();
		token = await accessToken(sim);
		encryption = makeSelfSignedCertificate('encryption');
	});
	afterAll(async () => {
		await receiver.close();
		await sim.close();
	});

	const create = (overrides: Record<string, unknown> = {}, t: string = token) =>
		graphCall(sim, t, 'POST', '/beta/subscriptions', subscriptionRequest(receiver.url, encryption, clock, overrides));
	const errorOf = (body: Record<string, unknown> | undefined) => (body as { error: { code: string; message: string; innerError: Record<string, string> } }).error;

	describe('authentication', () => {
		it('needs a bearer token', async () => {
			const res = await graphCall(sim, undefined, 'GET', '/v1.0/subscriptions');
			expect(res.status).toBe(401);
			expect(errorOf(res.body).code).toBe('InvalidAuthenticationToken');
			expect(Object.keys(errorOf(res.body).innerError).sort()).toEqual(['client-request-id', 'date', 'request-id']);
		});

		it('refuses tokens it did not issue, and revoked ones', async () => {
			expect((await graphCall(sim, 'abc.def.ghi', 'GET', '/v1.0/subscriptions')).status).toBe(401);
			const clientId = '77777777-0000-0000-0000-000000000001';
			sim.registerApp({ tenantId: TENANT_ID, clientId, secrets: [{ value: 'r' }], permissions: [] });
			const t = await accessToken(sim, clientId, 'r');
			expect((await graphCall(sim, t, 'GET', '/v1.0/subscriptions')).status).toBe(200);
			sim.revokeTokens(clientId);
			expect((await graphCall(sim, t, 'GET', '/v1.0/subscriptions')).status).toBe(401);
			expect((await graphCall(sim, await accessToken(sim, clientId, 'r'), 'GET', '/v1.0/subscriptions')).status).toBe(200);
		});

		it('answers bad JSON with 400 in Graph shape', async () => {
			const res = await graphCall(sim, token, 'POST', '/v1.0/subscriptions', '{not json');
			expect(res.status).toBe(400);
			expect(errorOf(res.body).code).toBe('BadRequest');
		});
	});

	describe('users', () => {
		it('finds a user by id and by UPN', async () => {
			for (const key of [USER.id, USER.userPrincipalName.toUpperCase()]) {
				const res = await graphCall(sim, token, 'GET', `/v1.0/users/${encodeURIComponent(key)}`);
				expect(res.status).toBe(200);
				expect(res.body).toMatchObject(USER);
			}
		});
		it('returns only the properties $select names', async () => {
			const res = await graphCall(sim, token, 'GET', `/v1.0/users/${USER.id}?$select=id`);
			expect(res.status).toBe(200);
			expect(Object.keys(res.body as object).sort()).toEqual(['@odata.context', 'id']);
		});
		it('404s an unknown user', async () => {
			const res = await graphCall(sim, token, 'GET', '/v1.0/users/nobody@contoso.example');
			expect(res.status).toBe(404);
			expect(errorOf(res.body).code).toBe('Request_ResourceNotFound');
		});
		it('403s without User.Read.All', async () => {
			const res = await graphCall(sim, await accessToken(sim, LIMITED_CLIENT, 'limited'), 'GET', `/v1.0/users/${USER.id}`);
			expect(res.status).toBe(403);
			expect(errorOf(res.body).code).toBe('Authorization_RequestDenied');
		});
	});

	describe('subscription create', () => {
		it('validates both endpoints, then answers 201 with the subscription', async () => {
			const before = receiver.validations().length;
			const res = await create({ resource: `/users/${USER.id}/callConversations` });
			expect(res.status).toBe(201);
			expect(res.body).toMatchObject({
				resource: `/users/${USER.id}/callConversations`,
				changeType: 'updated',
				notificationUrl: receiver.url,
				lifecycleNotificationUrl: receiver.url,
				clientState: 'client-state-secret',
				applicationId: CLIENT_ID,
				includeResourceData: true,
				encryptionCertificateId: 'enc-cert-1',
				latestSupportedTlsVersion: 'v1_2',
				notificationUrlAppId: null,
			});
			expect(String(res.body?.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
			// Two validation requests (same URL for both), with the token URL-encoded and an empty body.
			const validations = receiver.validations().slice(before);
			expect(validations).toHaveLength(2);
			expect(validations[0].query.validationToken).toMatch(/^Validation: Testing client application reachability/);
			expect(validations[0].body).toBe('');
			expect(String(validations[0].headers['content-type'])).toMatch(/^text\/plain/);
			expect(sim.subscriptions().map((s) => s.id)).toContain(res.body?.id);
			// clientState is never returned again.
			const got = await graphCall(sim, token, 'GET', `/v1.0/subscriptions/${String(res.body?.id)}`);
			expect(got.status).toBe(200);
			expect(got.body?.clientState).toBeNull();
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(res.body?.id)}`);
		});

		it('accepts users/{id}/communications/callEvents and rejects unknown resources and users', async () => {
			const ok = await create({ resource: `users/${USER.id}/communications/callEvents` });
			expect(ok.status).toBe(201);
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(ok.body?.id)}`);
			expect((await create({ resource: 'me/messages' })).status).toBe(400);
			expect((await create({ resource: 'users/00000000-0000-0000-0000-000000000000/callConversations' })).status).toBe(404);
		});

		const invalid: [string, Record<string, unknown>][] = [
			['http notificationUrl', { notificationUrl: 'http://localhost/x' }],
			['http lifecycleNotificationUrl', { lifecycleNotificationUrl: 'http://localhost/x' }],
			['bad changeType', { changeType: 'created' }],
			['expiry in the past', { expirationDateTime: new Date(Date.now() - 60_000).toISOString() }],
			['expiry past the maximum', { expirationDateTime: new Date(Date.now() + 1441 * 60_000).toISOString() }],
			['clientState over 128 chars', { clientState: 'x'.repeat(129) }],
			['rich without certificate', { encryptionCertificate: undefined }],
			['rich without certificate id', { encryptionCertificateId: undefined }],
			['certificate that is not a certificate', { encryptionCertificate: Buffer.from('hello').toString('base64') }],
			['no lifecycle URL for a long subscription', { lifecycleNotificationUrl: undefined }],
			['basic notifications', { includeResourceData: false }],
			['missing expirationDateTime', { expirationDateTime: undefined }],
		];
		it.each(invalid)('400 for %s', async (_name, overrides) => {
			const res = await create(overrides);
			expect(res.status).toBe(400);
			expect(typeof errorOf(res.body).message).toBe('string');
		});

		it('403 without CallEvents.Read.All', async () => {
			const res = await create({}, await accessToken(sim, LIMITED_CLIENT, 'limited'));
			expect(res.status).toBe(403);
			expect(errorOf(res.body).code).toBe('ExtensionError');
		});

		it('400 when the endpoint does not answer 200', async () => {
			const failing = await startWebhookReceiver({
				respond: (_req, res) => {
					res.writeHead(500);
					res.end();
					return true;
				},
			});
			try {
				const res = await create({ notificationUrl: failing.url, lifecycleNotificationUrl: failing.url });
				expect(res.status).toBe(400);
				expect(errorOf(res.body)).toMatchObject({ code: 'InvalidRequest', message: HANDSHAKE_MESSAGES.notOk });
			} finally {
				await failing.close();
			}
		});

		it('400 when the endpoint echoes the encoded token or the wrong content type', async () => {
			const encoded = await startWebhookReceiver({
				respond: (req, res) => {
					res.writeHead(200, { 'Content-Type': 'text/plain' });
					res.end(encodeURIComponent(req.query.validationToken ?? ''));
					return true;
				},
			});
			const html = await startWebhookReceiver({
				respond: (req, res) => {
					res.writeHead(200, { 'Content-Type': 'text/html' });
					res.end(req.query.validationToken);
					return true;
				},
			});
			try {
				const a = await create({ notificationUrl: encoded.url, lifecycleNotificationUrl: encoded.url });
				expect([a.status, errorOf(a.body).message]).toEqual([400, HANDSHAKE_MESSAGES.mismatch]);
				const b = await create({ notificationUrl: html.url, lifecycleNotificationUrl: html.url });
				expect([b.status, errorOf(b.body).message]).toEqual([400, HANDSHAKE_MESSAGES.contentType]);
			} finally {
				await encoded.close();
				await html.close();
			}
		});

		it('400 when the lifecycle endpoint is too slow', async () => {
			const slow = await startWebhookReceiver({ delayMs: 2500 });
			try {
				const res = await create({ lifecycleNotificationUrl: slow.url });
				expect(res.status).toBe(400);
				expect(errorOf(res.body).message).toBe(HANDSHAKE_MESSAGES.timeout);
				expect(sim.handshakes.at(-1)?.outcome).toBe('timeout');
			} finally {
				await slow.close();
			}
		});

		it('409 for a duplicate of a live subscription', async () => {
			const first = await create();
			expect(first.status).toBe(201);
			const second = await create();
			expect(second.status).toBe(409);
			expect(errorOf(second.body).code).toBe('Conflict');
			expect(errorOf(second.body).message).toContain(String(first.body?.id));
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(first.body?.id)}`);
		});

		it('409 for the same resource at another URL: Graph allows one per resource, change type and app', async () => {
			const first = await create();
			expect(first.status).toBe(201);
			const elsewhere = await create({ notificationUrl: `${receiver.url}?elsewhere=1` });
			expect(elsewhere.status).toBe(409);
			expect(errorOf(elsewhere.body).message).toContain(String(first.body?.id));
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(first.body?.id)}`);
		});

		it('lets only one of two concurrent identical creates succeed', async () => {
			const results = await Promise.all([create({ clientState: 'a' }), create({ clientState: 'b' })]);
			expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
			const created = results.find((r) => r.status === 201);
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(created?.body?.id)}`);
		});

		it('raises an expiry under 45 minutes to 45 minutes', async () => {
			const res = await create({ expirationDateTime: new Date(clock + 10 * 60_000).toISOString() });
			expect(res.status).toBe(201);
			expect(Date.parse(String(res.body?.expirationDateTime))).toBe(clock + 45 * 60_000);
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(res.body?.id)}`);
		});
	});

	describe('subscription lifecycle', () => {
		it('lists only this app’s subscriptions, paged with @odata.nextLink', async () => {
			const ids: string[] = [];
			for (let i = 0; i < 3; i++) {
				// Graph allows one per resource and app: three users.
				const userId = `99999999-8888-7777-6666-00000000000${i}`;
				sim.addUser({ id: userId, userPrincipalName: `user${i}@contoso.example`, displayName: `User ${i}` });
				const res = await create({ notificationUrl: `${receiver.url}?n=${i}`, resource: `users/${userId}/callConversations` });
				expect(res.status).toBe(201);
				ids.push(String(res.body?.id));
			}
			const other = await accessToken(sim, LIMITED_CLIENT, 'limited');
			expect((await graphCall(sim, other, 'GET', '/v1.0/subscriptions')).body?.value).toEqual([]);

			const seen: string[] = [];
			let next: string | undefined = '/v1.0/subscriptions';
			let pages = 0;
			while (next) {
				const page = await graphCall(sim, token, 'GET', next);
				expect(page.status).toBe(200);
				seen.push(...(page.body?.value as { id: string }[]).map((s) => s.id));
				next = page.body?.['@odata.nextLink'] as string | undefined;
				pages++;
			}
			expect(pages).toBe(2);
			expect(seen).toEqual(ids);
			for (const id of ids) expect((await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${id}`)).status).toBe(204);
			expect((await graphCall(sim, token, 'GET', '/v1.0/subscriptions')).body?.value).toEqual([]);
		});

		it('renews with PATCH, reauthorizes, deletes; gone subscriptions are 404', async () => {
			const id = String((await create()).body?.id);
			const newExpiry = new Date(clock + 24 * 3600_000).toISOString();
			const patched = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { expirationDateTime: newExpiry });
			expect(patched.status).toBe(200);
			expect(Date.parse(String(patched.body?.expirationDateTime))).toBe(Date.parse(newExpiry));
			expect(sim.getSubscription(id)?.updateCount).toBe(1);

			const tooFar = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, {
				expirationDateTime: new Date(clock + 25 * 3600_000).toISOString(),
			});
			expect(tooFar.status).toBe(400);
			const otherField = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { clientState: 'x' });
			expect(otherField.status).toBe(400);

			expect((await graphCall(sim, token, 'POST', `/v1.0/subscriptions/${id}/reauthorize`)).status).toBe(204);
			expect(sim.getSubscription(id)?.reauthorizeCount).toBe(1);
			expect((await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${id}`)).status).toBe(204);
			for (const [method, path] of [
				['GET', `/v1.0/subscriptions/${id}`],
				['DELETE', `/v1.0/subscriptions/${id}`],
				['POST', `/v1.0/subscriptions/${id}/reauthorize`],
			]) {
				const res = await graphCall(sim, token, method, path);
				expect(res.status).toBe(404);
				expect(errorOf(res.body).code).toBe('ResourceNotFound');
			}
		});

		it('PATCH moves a subscription to another encryption certificate (both fields, a usable certificate) and another URL', async () => {
			const id = String((await create()).body?.id);
			const rotated = makeSelfSignedCertificate('rotated');
			const expirationDateTime = new Date(clock + 23 * 3600_000).toISOString();
			const certificate = rotated.certPem.replace(/-----[^-]+-----|\s+/g, '');
			const moved = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, {
				expirationDateTime,
				encryptionCertificate: certificate,
				encryptionCertificateId: 'cert-2027',
			});
			expect(moved.status).toBe(200);
			expect(moved.body?.encryptionCertificateId).toBe('cert-2027');
			expect(sim.getSubscription(id)?.encryptionCertificate).toBe(certificate);
			const onlyOne = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { expirationDateTime, encryptionCertificateId: 'cert-2028' });
			expect(onlyOne.status).toBe(400);
			const notACertificate = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, {
				expirationDateTime,
				encryptionCertificate: 'bm90IGEgY2VydGlmaWNhdGU=',
				encryptionCertificateId: 'cert-2028',
			});
			expect(notACertificate.status).toBe(400);
			const neither = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { encryptionCertificate: certificate, encryptionCertificateId: 'cert-2029' });
			expect(neither.status).toBe(400);
			expect(errorOf(neither.body).message).toBe('expirationDateTime or notificationUrl is required to update a subscription.');
			const newUrl = `${receiver.url}?moved=1`;
			expect((await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { notificationUrl: newUrl })).status).toBe(200);
			expect(sim.getSubscription(id)?.notificationUrl).toBe(newUrl);
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${id}`);
		});

		it('expires by the simulator clock', async () => {
			const id = String((await create({ expirationDateTime: new Date(clock + 3600_000).toISOString() })).body?.id);
			expect((await graphCall(sim, token, 'GET', `/v1.0/subscriptions/${id}`)).status).toBe(200);
			clock += 3600_000 + 1;
			expect((await graphCall(sim, token, 'GET', `/v1.0/subscriptions/${id}`)).status).toBe(404);
			const patch = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, {
				expirationDateTime: new Date(clock + 3600_000).toISOString(),
			});
			expect(patch.status).toBe(404);
			// An expired subscription no longer blocks a new one for the same combination.
			const again = await create({ expirationDateTime: new Date(clock + 3600_000).toISOString() });
			expect(again.status).toBe(201);
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${String(again.body?.id)}`);
		});

		it('expireSubscription / removeSubscription make it disappear', async () => {
			for (const remove of [(id: string) => sim.expireSubscription(id), (id: string) => sim.removeSubscription(id)]) {
				const id = String((await create({ notificationUrl: `${receiver.url}?r=${Math.random()}` })).body?.id);
				remove(id);
				expect((await graphCall(sim, token, 'GET', `/v1.0/subscriptions/${id}`)).status).toBe(404);
				expect(sim.subscriptions().map((s) => s.id)).not.toContain(id);
				expect(sim.subscriptions({ includeInactive: true }).map((s) => s.id)).toContain(id);
			}
		});
	});

	describe('fault injection', () => {
		it('answers the next matching requests with the scripted status and Retry-After', async () => {
			sim.clearRequests();
			sim.injectFault({ method: 'GET', pathPattern: /\/subscriptions$/, status: 429, retryAfterSeconds: 3, times: 2 });
			const a = await graphCall(sim, token, 'GET', '/v1.0/subscriptions');
			const b = await graphCall(sim, token, 'GET', '/beta/subscriptions');
			const c = await graphCall(sim, token, 'GET', '/v1.0/subscriptions');
			expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
			expect(a.headers.get('retry-after')).toBe('3');
			expect(errorOf(a.body).code).toBe('TooManyRequests');
			expect(sim.countRequests({ host: 'graph', status: 429 })).toBe(2);
			expect(sim.findRequests({ host: 'graph' }).map((r) => r.fault)).toEqual([true, true, false]);
		});

		it('supports any status, code and message, and dropped connections', async () => {
			sim.injectFault({ pathPattern: '/users/', status: 503, code: 'serviceNotAvailable', message: 'try later' });
			const res = await graphCall(sim, token, 'GET', `/v1.0/users/${USER.id}`);
			expect(res.status).toBe(503);
			expect(errorOf(res.body)).toMatchObject({ code: 'serviceNotAvailable', message: 'try later' });
			sim.injectFault({ pathPattern: '/users/', status: 0, dropConnection: true });
			await expect(graphCall(sim, token, 'GET', `/v1.0/users/${USER.id}`)).rejects.toThrow();
			expect((await graphCall(sim, token, 'GET', `/v1.0/users/${USER.id}`)).status).toBe(200);
		});
	});
});
