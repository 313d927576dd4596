import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeHelpers, type INode, type INodeParameters } from 'n8n-workflow';

import { meetingJoinUrl } from '../../../lib/meetings/meetingJoinUrl';
import { readTriggerParameters } from '../../../lib/trigger/triggerParameters';
import { MicrosoftTeamsCallTrigger } from '../../../nodes/MicrosoftTeamsCallTrigger/MicrosoftTeamsCallTrigger.node';

/**
 * The workflows in examples/ are what `npm run demo` imports into n8n and what a person imports from a file:
 * each must be a trigger n8n accepts as it is, and together they must cover every source.
 */
const TRIGGER_TYPE = 'n8n-nodes-teams-calls.microsoftTeamsCallTrigger';
const examplesDir = join(__dirname, '..', '..', '..', 'examples');
const description = new MicrosoftTeamsCallTrigger().description;

interface ExampleWorkflow {
	name: string;
	nodes: Array<INode & { webhookId?: string }>;
	connections: Record<string, unknown>;
}

const examples = readdirSync(examplesDir)
	.filter((file) => file.endsWith('.workflow.json'))
	.map((file) => ({ file, workflow: JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as ExampleWorkflow }));
const triggerOf = (workflow: ExampleWorkflow) => {
	const triggers = workflow.nodes.filter((node) => node.type === TRIGGER_TYPE);
	expect(triggers).toHaveLength(1);
	return triggers[0];
};
const sourceOf = (node: INode) => String(node.parameters.source ?? 'callEvents');
/** The parameters as n8n resolves them for the node (defaults filled in, fields of other sources left out). */
const resolved = (node: INode) => NodeHelpers.getNodeParameters(description.properties, node.parameters, true, false, node, description) as INodeParameters;

describe('the example workflows', () => {
	it('cover every source, one workflow each, each named after its source', () => {
		const sources = examples.map(({ workflow }) => sourceOf(triggerOf(workflow)));
		const offered = (description.properties[0].options as Array<{ value: string; name: string }>);
		expect([...sources].sort()).toEqual(offered.map((option) => option.value).sort());
		for (const { workflow } of examples) {
			const label = offered.find((option) => option.value === sourceOf(triggerOf(workflow)))!.name;
			expect(workflow.name).toContain(label);
		}
	});

	it('give every trigger its own webhook ID, so that n8n can activate them side by side', () => {
		const ids = examples.map(({ workflow }) => triggerOf(workflow).webhookId);
		expect(ids.every((id) => typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id))).toBe(true);
		expect(new Set(ids).size).toBe(ids.length);
	});

	it.each(examples.map(({ file, workflow }) => [file, workflow] as const))('%s: only parameters the chosen source shows, no issue in n8n, valid settings', (_file, workflow) => {
		const node = triggerOf(workflow);
		expect((description.version as number[]).includes(node.typeVersion)).toBe(true);
		// n8n drops what the source does not show: nothing in the file may be lost that way.
		const kept = resolved(node);
		for (const name of Object.keys(node.parameters)) expect(kept).toHaveProperty(name);
		expect(NodeHelpers.getNodeParametersIssues(description.properties, node, description)).toBeNull();
		// The trigger's own reading of them: users, meeting links, lifetimes as activation will check them.
		const parameters = readTriggerParameters({ getNodeParameter: (name: string, fallback?: unknown) => kept[name] ?? fallback } as never);
		expect(parameters.source).toBe(sourceOf(node));
		if (parameters.source === 'meetingCallEvents') {
			for (const url of node.parameters.meetingJoinUrls as string[]) expect(meetingJoinUrl(url)).toBe(url);
		}
	});

	it.each(examples.map(({ file, workflow }) => [file, workflow] as const))('%s: names exactly the credentials its source asks for', (_file, workflow) => {
		const node = triggerOf(workflow);
		const source = sourceOf(node);
		const wanted = (description.credentials ?? [])
			.filter((credential) => credential.displayOptions?.show?.source?.includes(source) ?? true)
			.map((credential) => credential.name);
		expect(Object.keys(node.credentials ?? {}).sort()).toEqual(wanted.sort());
	});

	it.each(examples.map(({ file, workflow }) => [file, workflow] as const))('%s: the trigger feeds the node the demo reads its summary from', (_file, workflow) => {
		const describe = workflow.nodes.find((node) => node.name === 'Describe the call');
		expect(describe).toBeDefined();
		expect(workflow.connections[triggerOf(workflow).name]).toEqual({ main: [[{ node: 'Describe the call', type: 'main', index: 0 }]] });
	});
});
