/**
 * Issue 20: the Call Records Filter in one real n8n, against a Graph that accepts the participants filter of
 * a subscription and then matches nothing (simulator option `callRecordsParticipantsFilter: 'matchesNothing'`).
 * A trigger with "In Graph" gets no notification; its sweep for missed records (every 20 s here, through
 * N8N_TEAMS_CALLS_SWEEP_INTERVAL_SECONDS) runs each call once and, at the third sweep in a row that found such
 * calls, n8n records the canary's failed execution. Switched to "After Reading", the next call arrives by
 * notification. The tests run in order on the same workflow.
 */
import { filterCanaryMessage } from '../../lib/callRecords/filterCanary';
import type { StoredCallRecord } from '../simulator';
import { graphDateTime } from '../simulator/ids';
import { E2eEnvironment, USERS, waitFor, type TriggerWorkflow } from './e2eEnvironment';
import { saveLogs } from './logs';
import type { N8nExecution } from './n8nApi';

const SWEEP_SECONDS = 20;
/** The first sweep comes 60 s after the timer starts, then one every SWEEP_SECONDS (the timer ticks every 10 s). */
const SWEEP_WAIT_MS = 60_000 + SWEEP_SECONDS * 1000 + 30_000;

const [adele, bianca, cyril] = USERS;
let env: E2eEnvironment;
let workflow: TriggerWorkflow;
const missed: StoredCallRecord[] = [];
const parameters = (recordFilter: 'inGraph' | 'afterReading') => ({
	source: 'callRecords',
	recordUsers: [adele.userPrincipalName],
	recordFilter,
	recordEvents: ['callEnded'],
	recordOptions: { waitForRecordSeconds: 10 },
});

beforeAll(async () => {
	env = await E2eEnvironment.start({
		simulator: { callRecordsParticipantsFilter: 'matchesNothing' },
		appPermissions: ['CallRecords.Read.All', 'User.Read.All'],
		n8nEnv: { N8N_TEAMS_CALLS_SWEEP_INTERVAL_SECONDS: String(SWEEP_SECONDS) },
	});
	workflow = await env.createTriggerWorkflow('Call records of Adele, filter in Graph', parameters('inGraph'), undefined, { withoutCertificate: true });
});

afterAll(async () => {
	if (env) {
		saveLogs('callRecordsFilter', env.n8n.logs());
		await env.close();
	}
});

const callIdsOf = (executions: N8nExecution[]) => executions.flatMap((execution) => env.itemsOf(execution).map((item) => item.callId));

/** Exactly one live subscription for the workflow, and n8n done publishing it (it saves the clientStates then). */
async function waitForOneSubscription() {
	const live = await waitFor('one live call-records subscription', () => (env.live(workflow).length === 1 ? env.live(workflow)[0] : undefined), 30_000);
	await waitFor(
		'n8n to finish publishing the workflow',
		async () => {
			const status = await env.api.rest<{ data?: { status?: string }; status?: string }>('GET', `/workflows/${workflow.id}/publication-status`);
			return (status.body?.data?.status ?? status.body?.status) === 'published' ? true : undefined;
		},
		15_000,
		100,
	);
	return live;
}

/** A call of Adele's that ended 12 minutes ago, last changed by Graph 11 minutes ago: past the sweep's grace. Graph sends nothing for it. */
function missedCall(): StoredCallRecord {
	const now = Date.now();
	const record = env.sim.addCallRecord({
		participants: [adele, bianca],
		organizer: adele,
		endDateTime: graphDateTime(now - 12 * 60_000),
		startDateTime: graphDateTime(now - 17 * 60_000),
		lastModifiedDateTime: graphDateTime(now - 11 * 60_000),
	});
	expect(env.sim.callRecordNotificationsFor(record)).toEqual([]);
	missed.push(record);
	return record;
}

it('"In Graph", Graph matching nothing: three sweeps in a row run the missed calls once each, and n8n records the canary\'s failed execution', async () => {
	await env.api.activate(workflow.id);
	const subscription = await waitForOneSubscription();
	expect(subscription.resource).toBe(`communications/callRecords?$filter=participants/any(p:p/id in ('${adele.id}'))`);

	for (let sweep = 1; sweep <= 3; sweep++) {
		missedCall();
		// Each sweep finds the call added since the one before.
		const runs = await waitFor(`sweep ${sweep} to run its missed call`, async () => {
			const found = await env.runs(workflow);
			return found.length === sweep ? found : undefined;
		}, SWEEP_WAIT_MS, 500);
		expect(runs.map((run) => run.mode)).toEqual(Array(sweep).fill('trigger'));
	}
	const failed = await waitFor('the canary\'s failed execution', async () => (await env.executions(workflow)).find((execution) => execution.status === 'error'), 30_000, 500);
	expect(failed.data?.resultData?.error?.message).toBe(filterCanaryMessage(3, 3));

	const all = await env.executions(workflow);
	expect(callIdsOf(all)).toEqual(missed.map((record) => record.id));
	expect(all.filter((execution) => execution.status === 'error')).toHaveLength(1);
	expect(all.filter((execution) => execution.mode === 'webhook')).toEqual([]);
});

it('switched to "After Reading": one subscription for the tenant, and the next call of Adele arrives by notification (Cyril\'s call does not run)', async () => {
	await env.api.deactivate(workflow.id);
	// n8n 2.41 unpublishes after the API call returns (its publication outbox): the filtered subscription is
	// deleted a moment later, and must be gone before the new one is looked for.
	await waitFor('the filtered subscription deleted', () => (env.live(workflow).length === 0 ? true : undefined), 30_000);
	const saved = await env.api.workflow(workflow.id) as { name: string; nodes: Array<Record<string, unknown>>; connections: unknown };
	const nodes = saved.nodes.map((node) => (node.type === env.nodeType ? { ...node, parameters: parameters('afterReading') } : node));
	const updated = await env.api.public('PUT', `/workflows/${workflow.id}`, { name: saved.name, nodes, connections: saved.connections, settings: { executionOrder: 'v1' } });
	expect(updated.status).toBe(200);
	await env.api.activate(workflow.id);
	const subscription = await waitForOneSubscription();
	expect(subscription.resource).toBe('communications/callRecords');

	const before = (await env.executions(workflow)).length;
	const adeles = env.sim.addCallRecord({ participants: [adele, cyril], organizer: cyril });
	const cyrils = env.sim.addCallRecord({ participants: [cyril], organizer: cyril });
	const notifications = [adeles, cyrils].flatMap((record) => env.sim.callRecordNotificationsFor(record));
	expect(notifications.map((notification) => notification.subscriptionId)).toEqual([subscription.id, subscription.id]);
	const [delivery] = await env.sim.sendBatch(notifications);
	expect(delivery.status).toBe(202);
	const executions = await waitFor('the notification\'s execution', async () => {
		const all = (await env.executions(workflow)).slice(before);
		return all.length === 1 && all[0].status === 'success' ? all : undefined;
	}, 30_000, 500);
	expect(executions.map((execution) => execution.mode)).toEqual(['webhook']);
	expect(callIdsOf(executions)).toEqual([adeles.id]);
});
