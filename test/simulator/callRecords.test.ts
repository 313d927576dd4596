import { graphDateTime } from './ids';
import { startGraphSimulator, type GraphSimulator } from './index';
import { accessToken, graphCall, seedStandardTenant, TENANT_ID, USER } from './fixtures';
import { startWebhookReceiver, type WebhookReceiver } from './webhookReceiver';

/** communications/callRecords as Graph v1.0 documents it: subscriptions, basic notifications, the record read. */
describe('simulated call records', () => {
	let sim: GraphSimulator;
	let receiver: WebhookReceiver;
	let token: string;
	let clock = Date.now();
	const OTHER = '12345678-0000-4000-8000-00000000abcd';

	beforeAll(async () => {
		sim = await startGraphSimulator({ now: () => clock, callRecordSessionsPageSize: 2, callRecordParticipantsPageSize: 2, validationTimeoutMs: 1500 });
		seedStandardTenant(sim, ['CallRecords.Read.All']);
		receiver = await startWebhookReceiver();
		token = await accessToken(sim);
	});
	afterAll(async () => {
		await receiver.close();
		await sim.close();
	});
	afterEach(async () => {
		for (const subscription of sim.subscriptions()) {
			await graphCall(sim, token, 'DELETE', `/v1.0/subscriptions/${subscription.id}`);
		}
		sim.clearFaults();
	});

	const request = (overrides: Record<string, unknown> = {}) => ({
		changeType: 'created',
		notificationUrl: receiver.url,
		lifecycleNotificationUrl: receiver.url,
		resource: '/communications/callRecords',
		expirationDateTime: new Date(clock + 4230 * 60_000).toISOString(),
		clientState: 'client-state-secret',
		...overrides,
	});
	const create = (overrides: Record<string, unknown> = {}, t = token) => graphCall(sim, t, 'POST', '/v1.0/subscriptions', request(overrides));
	const errorOf = (body: Record<string, unknown> | undefined) => (body as { error: { code: string; message: string } }).error;

	describe('subscriptions', () => {
		it('accepts the whole tenant, basic, for created and updated, for 4,230 minutes', async () => {
			const res = await create({ changeType: 'created,updated' });
			expect(res.status).toBe(201);
			expect(res.body).toMatchObject({ resource: '/communications/callRecords', changeType: 'created,updated', includeResourceData: false, encryptionCertificate: null });
			const renewed = await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${String(res.body?.id)}`, {
				expirationDateTime: new Date(clock + 4230 * 60_000).toISOString(),
			});
			expect(renewed.status).toBe(200);
		});

		it.each([
			[`participants/any(p:p/id eq '${USER.id}')`],
			[`participants/any(p:p/id eq '${USER.id}') or participants/any(x:x/id eq '${OTHER}')`],
			[`participants/any(p:p/id in ('${USER.id}', '${OTHER}'))`],
		])('accepts the participants filter %s', async (filter) => {
			expect((await create({ resource: `/communications/callRecords?$filter=${filter}` })).status).toBe(201);
		});

		it.each([
			[`participants/any(p:p/id ne '${USER.id}')`],
			[`organizer/id eq '${USER.id}'`],
			[`participants/any(p:p/id eq '${USER.id}') and startDateTime ge 2024-01-01`],
			[`participants/any(p:p/displayName eq 'Adele')`],
		])('refuses the filter %s', async (filter) => {
			const res = await create({ resource: `/communications/callRecords?$filter=${filter}` });
			expect(res.status).toBe(400);
			expect(errorOf(res.body).message).toMatch(/filter/i);
		});

		it('refuses a filtered resource longer than its limit', async () => {
			const ids = Array.from({ length: 60 }, (_, n) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`);
			const resource = `/communications/callRecords?$filter=participants/any(p:p/id in (${ids.map((id) => `'${id}'`).join(',')}))`;
			expect(resource.length).toBeGreaterThan(2048);
			const res = await create({ resource });
			expect(res.status).toBe(400);
			expect(errorOf(res.body).message).toMatch(/at most 2048/);
			expect((await create({ resource: resource.replace(/,'00000040[^)]*/, '') })).status).toBe(201);
		});

		it('refuses deleted, more than 4,230 minutes, resource data and an encryption certificate', async () => {
			expect(errorOf((await create({ changeType: 'created,deleted' })).body).message).toMatch(/Supported change types: created, updated/);
			const tooLong = await create({ expirationDateTime: new Date(clock + 4231 * 60_000).toISOString() });
			expect(errorOf(tooLong.body).message).toMatch(/4230 minutes/);
			expect(errorOf((await create({ includeResourceData: true })).body).message).toMatch(/does not support change notifications with resource data/);
			expect(errorOf((await create({ encryptionCertificate: 'MIIB', encryptionCertificateId: 'x' })).body).message).toMatch(/encryptionCertificate must not be set/);
			expect(sim.subscriptions()).toHaveLength(0);
		});

		it('needs CallRecords.Read.All', async () => {
			const limited = 'ffffffff-0000-0000-0000-00000000000a';
			sim.registerApp({ tenantId: TENANT_ID, clientId: limited, secrets: [{ value: 'l' }], permissions: ['CallEvents.Read.All'] });
			const res = await create({}, await accessToken(sim, limited, 'l'));
			expect(res.status).toBe(403);
			expect(errorOf(res.body).code).toBe('ExtensionError');
		});

		it('allows 100 call-record subscriptions per organization, all apps together', async () => {
			const second = 'ffffffff-0000-0000-0000-00000000000b';
			sim.registerApp({ tenantId: TENANT_ID, clientId: second, secrets: [{ value: 's' }], permissions: ['CallRecords.Read.All'] });
			const secondToken = await accessToken(sim, second, 's');
			const ids = Array.from({ length: 101 }, (_, n) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`);
			for (const [n, id] of ids.slice(0, 100).entries()) {
				const res = await create({ resource: `/communications/callRecords?$filter=participants/any(p:p/id eq '${id}')` }, n % 2 ? secondToken : token);
				expect(res.status).toBe(201);
			}
			const refused = await create({ resource: `/communications/callRecords?$filter=participants/any(p:p/id eq '${ids[100]}')` });
			expect(refused.status).toBe(403);
			expect(errorOf(refused.body).message).toMatch(/maximum number of 100 subscriptions/);
			for (const subscription of sim.subscriptions().filter((s) => s.applicationId === second)) {
				await graphCall(sim, secondToken, 'DELETE', `/v1.0/subscriptions/${subscription.id}`);
			}
		});
	});

	describe('which subscriptions Graph notifies of a record (callRecordNotificationsFor)', () => {
		const filtered = (id: string) => `/communications/callRecords?$filter=participants/any(p:p/id in ('${id}'))`;

		it('by default honours the participants filter: the whole tenant and the filter naming a participant, by change type', async () => {
			const tenant = sim.getSubscription(String((await create()).body?.id))!;
			const users = sim.getSubscription(String((await create({ resource: filtered(USER.id), notificationUrl: `${receiver.url}?u` })).body?.id))!;
			await create({ resource: filtered(OTHER), notificationUrl: `${receiver.url}?o` });
			await create({ resource: filtered(USER.id), changeType: 'updated', notificationUrl: `${receiver.url}?x` });
			const record = sim.addCallRecord({ participants: [USER], organizer: null });
			const organizedOnly = sim.addCallRecord({ participants: [], organizer: USER });
			expect(sim.callRecordNotificationsFor(record)).toEqual([sim.callRecordNotificationFor(tenant, record.id), sim.callRecordNotificationFor(users, record.id)]);
			expect(sim.callRecordNotificationsFor(organizedOnly).map((n) => n.subscriptionId)).toEqual([tenant.id]);
		});

		it("with callRecordsParticipantsFilter 'matchesNothing': a filtered subscription is made and renewed as usual, and never notified; the whole tenant still is", async () => {
			const other = await startGraphSimulator({ now: () => clock, callRecordsParticipantsFilter: 'matchesNothing', validationTimeoutMs: 1500 });
			try {
				seedStandardTenant(other, ['CallRecords.Read.All']);
				const otherToken = await accessToken(other);
				const made = await graphCall(other, otherToken, 'POST', '/v1.0/subscriptions', request({ resource: filtered(USER.id) }));
				expect(made.status).toBe(201);
				const renewed = await graphCall(other, otherToken, 'PATCH', `/v1.0/subscriptions/${String(made.body?.id)}`, {
					expirationDateTime: new Date(clock + 4000 * 60_000).toISOString(),
				});
				expect(renewed.status).toBe(200);
				const record = other.addCallRecord({ participants: [USER] });
				expect(other.callRecordNotificationsFor(record)).toEqual([]);
				const tenant = await graphCall(other, otherToken, 'POST', '/v1.0/subscriptions', request({ notificationUrl: `${receiver.url}?t` }));
				expect(other.callRecordNotificationsFor(record).map((n) => n.subscriptionId)).toEqual([tenant.body?.id]);
			} finally {
				await other.close();
			}
		});
	});

	describe('notifications', () => {
		it('are basic: the record ID and the clientState, no encrypted content, no validation tokens', async () => {
			const res = await create();
			const subscription = sim.getSubscription(String(res.body?.id))!;
			const record = sim.addCallRecord();
			const before = receiver.notifications().length;
			await sim.sendBatch([sim.callRecordNotificationFor(subscription, record.id)]);
			const [received] = receiver.notifications().slice(before);
			const body = JSON.parse(received.body) as { value: Array<Record<string, unknown>>; validationTokens?: unknown };
			expect(body.validationTokens).toBeUndefined();
			expect(body.value).toEqual([
				{
					subscriptionId: subscription.id,
					clientState: 'client-state-secret',
					changeType: 'created',
					resource: `communications/callRecords/${record.id}`,
					subscriptionExpirationDateTime: subscription.expirationDateTime,
					resourceData: { '@odata.type': '#Microsoft.Graph.callRecord', '@odata.id': `communications/callRecords/${record.id}`, id: record.id },
					tenantId: TENANT_ID,
				},
			]);
		});
	});

	describe('reading a record', () => {
		it('answers 404 while the record is new, then the record', async () => {
			const record = sim.addCallRecord({ notReadableForMs: 5000, organizer: USER, participants: [USER], type: 'groupCall', modalities: ['audio', 'video'] });
			expect((await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}`)).status).toBe(404);
			clock += 5000;
			const res = await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}`);
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({
				id: record.id,
				version: 1,
				type: 'groupCall',
				modalities: ['audio', 'video'],
				startDateTime: record.startDateTime,
				endDateTime: record.endDateTime,
				organizer_v2: { id: USER.id, identity: { user: { id: USER.id, displayName: USER.displayName, tenantId: TENANT_ID } } },
				// Deprecated, and without data since June 30, 2026.
				organizer: null,
				participants: [],
			});
			expect(res.body).not.toHaveProperty('sessions');
			expect(res.body).not.toHaveProperty('participants_v2');
		});

		it('expands participants_v2, paged through participants_v2@odata.nextLink', async () => {
			const others = [1, 2, 3, 4].map((n) => ({ id: `0000000${n}-0000-4000-8000-000000000000`, userPrincipalName: `u${n}@contoso.example`, displayName: `User ${n}` }));
			const record = sim.addCallRecord({ participants: [USER, ...others] });
			const first = await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}?$expand=participants_v2`);
			const participants = [...(first.body?.participants_v2 as Array<Record<string, unknown>>)];
			expect(participants).toHaveLength(2);
			let next = first.body?.['participants_v2@odata.nextLink'] as string | undefined;
			while (next) {
				const page = await graphCall(sim, token, 'GET', next);
				participants.push(...(page.body?.value as Array<Record<string, unknown>>));
				next = page.body?.['@odata.nextLink'] as string | undefined;
			}
			expect(participants.map((p) => p.id)).toEqual([USER, ...others].map((u) => u.id));
			expect(participants[0]).toEqual({ id: USER.id, identity: { user: { id: USER.id, displayName: USER.displayName, tenantId: TENANT_ID, userPrincipalName: USER.userPrincipalName } } });
			const both = await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}?$expand=participants_v2,sessions`);
			expect(both.status).toBe(400);
		});

		it('answers 404 for an unknown ID and for a record older than 30 days', async () => {
			expect((await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${OTHER}`)).status).toBe(404);
			const record = sim.addCallRecord();
			clock += 31 * 86_400_000;
			expect((await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}`)).status).toBe(404);
		});

		it('expands sessions with segments, paged through sessions@odata.nextLink', async () => {
			const record = sim.addCallRecord({ sessionCount: 5 });
			const first = await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}?$expand=sessions($expand=segments)`);
			expect(first.status).toBe(200);
			const sessions = [...(first.body?.sessions as Array<Record<string, unknown>>)];
			let next = first.body?.['sessions@odata.nextLink'] as string | undefined;
			while (next) {
				expect(next.startsWith(sim.graphBaseUrl)).toBe(true);
				const page = await graphCall(sim, token, 'GET', next);
				expect(page.status).toBe(200);
				sessions.push(...(page.body?.value as Array<Record<string, unknown>>));
				next = page.body?.['@odata.nextLink'] as string | undefined;
			}
			expect(sessions.map((session) => session.id)).toEqual(record.sessions.map((session) => session.id));
			expect(sessions.every((session) => Array.isArray(session.segments) && (session.segments as unknown[]).length === 1)).toBe(true);
		});

		it('needs CallRecords.Read.All to read, and can be throttled with Retry-After', async () => {
			const record = sim.addCallRecord();
			const limited = 'ffffffff-0000-0000-0000-00000000000c';
			sim.registerApp({ tenantId: TENANT_ID, clientId: limited, secrets: [{ value: 'c' }], permissions: [] });
			expect((await graphCall(sim, await accessToken(sim, limited, 'c'), 'GET', `/v1.0/communications/callRecords/${record.id}`)).status).toBe(403);
			sim.injectFault({ pathPattern: '/communications/callRecords/', status: 429, retryAfterSeconds: 2 });
			const throttled = await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}`);
			expect(throttled.status).toBe(429);
			expect(throttled.headers.get('retry-after')).toBe('2');
			expect((await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}`)).status).toBe(200);
		});

		it('raises the version on a revision', async () => {
			const record = sim.addCallRecord();
			sim.updateCallRecord(record.id, { modalities: ['audio', 'screenSharing'] });
			const res = await graphCall(sim, token, 'GET', `/v1.0/communications/callRecords/${record.id}`);
			expect(res.body).toMatchObject({ version: 2, modalities: ['audio', 'screenSharing'] });
		});
	});

	describe('listing records (GET communications/callRecords)', () => {
		// A simulator of its own: the records of the other tests would be listed too.
		let lister: GraphSimulator;
		let listToken: string;
		const HOUR = 3_600_000;
		const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
		const list = (query: string, headers: Record<string, string> = {}, t?: string) =>
			graphCall(lister, t ?? listToken, 'GET', `/v1.0/communications/callRecords${query}`, undefined, headers);
		const ids = (body: Record<string, unknown> | undefined) => (body?.value as Array<{ id: string }>).map((record) => record.id);
		const recordStarting = (ago: number, input: Parameters<GraphSimulator['addCallRecord']>[0] = {}) =>
			lister.addCallRecord({ startDateTime: graphDateTime(clock - ago), endDateTime: graphDateTime(clock - ago + 60_000), ...input });

		beforeAll(async () => {
			lister = await startGraphSimulator({ now: () => clock });
			seedStandardTenant(lister, ['CallRecords.Read.All']);
			listToken = await accessToken(lister);
		});
		afterAll(async () => lister.close());
		// Each test lists only its own records: the earlier ones are past Graph's 30 days.
		beforeEach(() => {
			// On a whole second, as the filter's literals are.
			clock = Math.ceil((clock + 31 * 86_400_000) / 1000) * 1000;
		});

		it('filters on startDateTime, alone or as a range joined by and, and lists each record without sessions or participants', async () => {
			const old = recordStarting(5 * HOUR);
			const middle = recordStarting(3 * HOUR, { organizer: USER, participants: [USER], type: 'groupCall', sessionCount: 2 });
			const recent = recordStarting(1 * HOUR);
			const unfiltered = await list('');
			expect(unfiltered.status).toBe(200);
			expect(ids(unfiltered.body)).toEqual([old.id, middle.id, recent.id]);
			const since = await list(`?$filter=startDateTime ge ${at(clock - 4 * HOUR)}`);
			expect(since.status).toBe(200);
			expect(ids(since.body)).toEqual([middle.id, recent.id]);
			const range = await list(`?$filter=startDateTime ge ${at(clock - 4 * HOUR)} and startDateTime lt ${at(clock - 2 * HOUR)}`);
			expect(ids(range.body)).toEqual([middle.id]);
			expect(ids((await list(`?$filter=startDateTime gt ${at(clock - 3 * HOUR)}`)).body)).toEqual([recent.id]);
			expect(ids((await list(`?$filter=startDateTime le ${at(clock - 3 * HOUR)}`)).body)).toEqual([old.id, middle.id]);
			const listed = (range.body?.value as Array<Record<string, unknown>>)[0];
			expect(listed).toMatchObject({
				id: middle.id,
				version: 1,
				type: 'groupCall',
				modalities: ['audio'],
				lastModifiedDateTime: middle.lastModifiedDateTime,
				startDateTime: middle.startDateTime,
				endDateTime: middle.endDateTime,
				organizer_v2: { id: USER.id, identity: { user: { id: USER.id, displayName: USER.displayName, tenantId: TENANT_ID } } },
			});
			expect(listed).not.toHaveProperty('sessions');
			expect(listed).not.toHaveProperty('participants_v2');
			expect(listed).not.toHaveProperty('participants');
		});

		it('filters on one participant, alone', async () => {
			const theirs = recordStarting(10 * 60_000, { participants: [USER] });
			recordStarting(9 * 60_000, { participants: [] });
			const res = await list(`?$filter=participants_v2/any(p:p/id eq '${USER.id}')`);
			expect(res.status).toBe(200);
			expect(ids(res.body)).toEqual([theirs.id]);
		});

		it.each([
			['the two documented filters combined', (t: string) => `participants_v2/any(p:p/id eq '${USER.id}') and startDateTime ge ${t}`],
			['the same, the other way round', (t: string) => `startDateTime ge ${t} and participants_v2/any(p:p/id eq '${USER.id}')`],
			['startDateTime comparisons joined by or', (t: string) => `startDateTime ge ${t} or startDateTime lt ${t}`],
			['an undocumented operator on startDateTime', (t: string) => `startDateTime eq ${t}`],
			['another property', (t: string) => `endDateTime ge ${t}`],
			['the subscription filter\'s property name', () => `participants/any(p:p/id eq '${USER.id}')`],
			['a participant compared with in', () => `participants_v2/any(p:p/id in ('${USER.id}'))`],
			['two participants', () => `participants_v2/any(p:p/id eq '${USER.id}') or participants_v2/any(p:p/id eq '${OTHER}')`],
			['a date without a time', () => 'startDateTime ge 2026-01-01'],
			['a quoted date', (t: string) => `startDateTime ge '${t}'`],
		])('refuses %s with 400', async (_, filter) => {
			const res = await list(`?$filter=${encodeURIComponent(filter(at(clock - HOUR)))}`);
			expect(res.status).toBe(400);
			expect(errorOf(res.body)).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(/filter/i) });
		});

		it.each([['$top=5'], ['$orderby=startDateTime'], ['$expand=sessions'], ['$count=true']])('refuses the query option %s', async (query) => {
			const res = await list(`?${query}`);
			expect(res.status).toBe(400);
			expect(errorOf(res.body).code).toBe('BadRequest');
		});

		it('needs CallRecords.Read.All', async () => {
			const limited = 'ffffffff-0000-0000-0000-00000000000d';
			lister.registerApp({ tenantId: TENANT_ID, clientId: limited, secrets: [{ value: 'd' }], permissions: ['CallEvents.Read.All'] });
			const res = await list('', {}, await accessToken(lister, limited, 'd'));
			expect(res.status).toBe(403);
			expect(errorOf(res.body).code).toBe('Forbidden');
		});

		it('pages by 60 through @odata.nextLink, or by fewer when Prefer: odata.maxpagesize asks', async () => {
			const many = Array.from({ length: 130 }, (_, n) => recordStarting(2 * HOUR - n * 1000));
			const filter = `?$filter=startDateTime ge ${at(clock - 3 * HOUR)}`;
			const collect = async (headers: Record<string, string>) => {
				const sizes: number[] = [];
				const seen: string[] = [];
				let res = await list(filter, headers);
				for (;;) {
					expect(res.status).toBe(200);
					sizes.push((res.body?.value as unknown[]).length);
					seen.push(...ids(res.body));
					const next = res.body?.['@odata.nextLink'] as string | undefined;
					if (!next) break;
					expect(next.startsWith(`${lister.graphBaseUrl}/v1.0/communications/callRecords?`)).toBe(true);
					res = await graphCall(lister, listToken, 'GET', next, undefined, headers);
				}
				return { sizes, seen };
			};
			const byDefault = await collect({});
			expect(byDefault.sizes).toEqual([60, 60, 10]);
			expect(byDefault.seen).toEqual(many.map((record) => record.id));
			expect((await collect({ Prefer: 'odata.maxpagesize=50' })).sizes).toEqual([50, 50, 30]);
			expect((await collect({ Prefer: 'odata.maxpagesize=999' })).sizes).toEqual([60, 60, 10]);
		});

		it('lists no record older than 30 days, nor one Graph cannot return yet', async () => {
			const aged = lister.addCallRecord({ lastModifiedDateTime: graphDateTime(clock - 31 * 86_400_000) });
			const pending = lister.addCallRecord({ notReadableForMs: 60_000 });
			const fresh = lister.addCallRecord();
			expect(ids((await list('')).body)).toEqual([fresh.id]);
			clock += 60_000;
			expect(ids((await list('')).body).sort()).toEqual([pending.id, fresh.id].sort());
			expect(ids((await list('')).body)).not.toContain(aged.id);
		});
	});
});

/** End-to-end tests hold call-record subscriptions to one minute, so that renewal is seen in minutes. */
describe('simulated call records with a lower lifetime limit', () => {
	let sim: GraphSimulator;
	let receiver: WebhookReceiver;

	beforeAll(async () => {
		sim = await startGraphSimulator({ callRecordsMaxSubscriptionLifetimeMinutes: 1, minSubscriptionLifetimeMinutes: 0, validationTimeoutMs: 1500 });
		seedStandardTenant(sim, ['CallRecords.Read.All']);
		receiver = await startWebhookReceiver();
	});
	afterAll(async () => {
		await receiver.close();
		await sim.close();
	});

	it('grants call-record subscriptions at most that lifetime, on creation and on renewal', async () => {
		const token = await accessToken(sim);
		const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
		const create = (minutes: number) =>
			graphCall(sim, token, 'POST', '/v1.0/subscriptions', {
				changeType: 'created',
				notificationUrl: receiver.url,
				lifecycleNotificationUrl: receiver.url,
				resource: '/communications/callRecords',
				expirationDateTime: inMinutes(minutes),
				clientState: 'client-state-secret',
			});
		const tooLong = await create(2);
		expect(tooLong.status).toBe(400);
		expect((tooLong.body as { error: { message: string } }).error.message).toMatch(/can only be 1 minutes in the future/);
		const created = await create(1);
		expect(created.status).toBe(201);
		const id = String(created.body?.id);
		expect((await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { expirationDateTime: inMinutes(2) })).status).toBe(400);
		expect((await graphCall(sim, token, 'PATCH', `/v1.0/subscriptions/${id}`, { expirationDateTime: inMinutes(1) })).status).toBe(200);
	});
});
