import { forgetGraphClients } from '../../lib/auth/graphTokenProvider';
import { readAppCredential } from '../../lib/auth/appCredential';
import { GraphApiError } from '../../lib/graph/graphApiError';
import { GraphClient } from '../../lib/graph/graphClient';
import { explainSubscriptionError } from '../../lib/subscriptions/explainSubscriptionError';
import { n8nHttpRequest } from '../support/n8nHttpHelper';
import { CLIENT_ID, simulatorAppCredential, TENANT } from '../support/simulatorTenant';
import { startGraphSimulator, type GraphSimulator } from '../simulator';

const SECRET = 'Tq8~request-ids.secret-value_012345';
const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
let sim: GraphSimulator;

beforeAll(async () => {
	sim = await startGraphSimulator();
	sim.registerTenant(TENANT);
	sim.registerApp({ tenantId: TENANT, clientId: CLIENT_ID, secrets: [{ value: SECRET }], permissions: ['CallEvents.Read.All'] });
});
afterAll(() => sim.close());
beforeEach(() => forgetGraphClients());

function graphClient(): GraphClient {
	return new GraphClient(n8nHttpRequest(), readAppCredential(simulatorAppCredential(sim, SECRET)), {
		apiVersion: 'beta',
		sleep: async () => undefined,
		maxAttempts: 1,
	});
}

async function failureOf(work: Promise<unknown>): Promise<GraphApiError> {
	const error = await work.then(() => undefined, (reason: unknown) => reason);
	expect(error).toBeInstanceOf(GraphApiError);
	return error as GraphApiError;
}

describe('a failed Graph call names its request-id and client-request-id', () => {
	it('in GraphApiError\'s message, with a fresh client-request-id sent on each request', async () => {
		sim.injectFault({ method: 'GET', pathPattern: '/subscriptions', host: 'graph', status: 403, code: 'Forbidden', times: 2 });
		const first = await failureOf(graphClient().request('GET', 'subscriptions'));
		const second = await failureOf(graphClient().request('GET', 'subscriptions'));
		expect(first.message).toMatch(new RegExp(`^Microsoft Graph answered 403 Forbidden to GET /beta/subscriptions: .* \\(request-id ${GUID}, client-request-id ${GUID}\\)$`));
		// The simulator echoes the client-request-id we sent, and makes one up only when none came.
		expect(first.clientRequestId).not.toBe(first.requestId);
		expect(second.clientRequestId).not.toBe(first.clientRequestId);
		expect(second.requestId).not.toBe(first.requestId);
	});

	it('in the explanation a user sees for a subscription that failed', async () => {
		sim.injectFault({ method: 'POST', pathPattern: '/subscriptions', host: 'graph', status: 403, code: 'ExtensionError' });
		const error = await failureOf(graphClient().request('POST', 'subscriptions', { resource: 'users/x/callConversations' }));
		const explained = explainSubscriptionError(error, 'adele@contoso.test', 'https://n8n.test/webhook/x/notify');
		expect(explained).toContain(`(request-id ${error.requestId}, client-request-id ${error.clientRequestId})`);
		expect(explained).toMatch(/CallEvents\.Read\.All/);
	});

	it('with the client-request-id when Graph could not be reached', async () => {
		sim.injectFault({ method: 'GET', pathPattern: '/subscriptions', host: 'graph', status: 0, dropConnection: true });
		const error = await failureOf(graphClient().request('GET', 'subscriptions'));
		expect(error.message).toMatch(new RegExp(`^Microsoft Graph could not be reached for GET /beta/subscriptions: .* \\(client-request-id ${GUID}\\)$`));
	});
});
