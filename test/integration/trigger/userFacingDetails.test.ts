import { startTriggerFixture, USERS, type TriggerFixture } from '../../support/triggerFixture';

const [adele] = USERS;
let fixture: TriggerFixture;

afterEach(async () => fixture?.close());

describe('the Resource Path option', () => {
	it.each(['users/{ID}/communications/callEvents', 'users/{Id}/communications/callEvents', 'users/{id}/communications/callEvents'])(
		'accepts the placeholder as the hint writes it or in any case: %s',
		async (resourceTemplate) => {
			fixture = await startTriggerFixture({ users: [adele.id], options: { resourceTemplate } });
			await fixture.harness.activate();
			expect(fixture.sim.subscriptions().map((subscription) => subscription.resource)).toEqual([
				`users/${adele.id}/communications/callEvents`,
			]);
		},
	);
});

describe('messages about the public URL', () => {
	it('name WEBHOOK_URL as well as N8N_WEBHOOK_URL when the URL is not HTTPS', async () => {
		fixture = await startTriggerFixture({ users: [adele.id] }, { plainHttp: true });
		const refusal = await fixture.harness.activate().then(
			() => undefined,
			(error: Error & { description?: string }) => `${error.message} ${error.description ?? ''}`,
		);
		expect(refusal).toMatch(/N8N_WEBHOOK_URL \(or WEBHOOK_URL, its older name/);
	});
});
