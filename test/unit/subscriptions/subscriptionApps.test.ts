import { appsOfSlot, belongsToOtherApp, stampApp, withOwnApps } from '../../../lib/subscriptions/subscriptionApps';
import type { SubscriptionApp, SubscriptionSlot, SubscriptionState } from '../../../lib/subscriptions/subscriptionState';

const endpoints = { cloud: 'global', loginOrigin: 'https://login.microsoftonline.com', graphOrigin: 'https://graph.microsoft.com' } as SubscriptionApp['endpoints'];
const oldApp: SubscriptionApp = { clientId: '11111111-aaaa-4bbb-8ccc-000000000001', tenantId: 'contoso.onmicrosoft.com', endpoints };
const newApp: SubscriptionApp = { clientId: '22222222-aaaa-4bbb-8ccc-000000000002', tenantId: 'contoso.onmicrosoft.com', endpoints };
const now = new Date('2026-12-08T12:00:00Z');

const slot = (extra: Partial<SubscriptionSlot> = {}): SubscriptionSlot => ({
	userId: 'aaaaaaaa-0000-4000-8000-000000000001',
	user: 'adele@contoso.test',
	resource: 'users/aaaaaaaa-0000-4000-8000-000000000001/callConversations',
	clientState: 'state',
	subscriptionId: 'old-subscription',
	expiresAt: '2026-12-08T13:00:00Z',
	...extra,
});
/** As saved before slots recorded their app: one app for the whole state. */
const legacyState = (slots: SubscriptionSlot[]): SubscriptionState => ({
	version: 1,
	activationId: 'a',
	notificationUrl: 'https://n8n.example/webhook/x/notify',
	lifecycleUrl: 'https://n8n.example/webhook/x/notify',
	apiVersion: 'beta',
	lifetimeMinutes: 60,
	settingsKey: 'k',
	app: oldApp,
	slots,
});

describe('the app of each subscription', () => {
	it('is the state\'s for a slot saved without one, and a slot of it must move once the credential names another app', () => {
		const legacy = slot();
		const state = legacyState([legacy]);
		expect(appsOfSlot(legacy, state, now)).toEqual([oldApp]);
		expect(belongsToOtherApp(legacy, state, newApp)).toBe(true);
		expect(belongsToOtherApp(legacy, state, { ...oldApp, clientId: oldApp.clientId.toUpperCase() })).toBe(false);
	});

	it('keeps the app a slot relied on when the state\'s app changes', () => {
		const moved = { ...slot({ subscriptionId: 'new-subscription' }), app: newApp };
		const state = legacyState([slot(), moved]);
		expect(withOwnApps(state.slots, state).map((s) => s.app?.clientId)).toEqual([oldApp.clientId, newApp.clientId]);
	});

	it('remembers the old app of a replaced live subscription until that one expires', () => {
		const before = slot();
		const state = legacyState([before]);
		const after = stampApp(before, slot({ subscriptionId: 'new-subscription', expiresAt: '2026-12-09T12:00:00Z' }), state, newApp, now);
		expect(after.app).toEqual(newApp);
		expect(after.replacedApp).toEqual({ app: oldApp, until: '2026-12-08T13:00:00Z' });
		expect(appsOfSlot(after, state, now)).toEqual([newApp, oldApp]);
		expect(appsOfSlot(after, state, new Date('2026-12-08T13:00:01Z'))).toEqual([newApp]);
	});

	it('remembers nothing when the same app renews, or the replaced subscription had expired', () => {
		const state = legacyState([]);
		const renewed = stampApp(slot({ app: newApp }), slot({ app: newApp, expiresAt: '2026-12-09T12:00:00Z' }), state, newApp, now);
		expect(renewed.replacedApp).toBeUndefined();
		const lapsed = stampApp(slot({ expiresAt: '2026-12-08T11:00:00Z' }), slot({ subscriptionId: 'new-subscription' }), state, newApp, now);
		expect(lapsed.replacedApp).toBeUndefined();
	});
});
