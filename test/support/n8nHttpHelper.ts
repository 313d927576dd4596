import { HookContext } from 'n8n-core';
import { Workflow, type INode, type INodeTypes, type IWorkflowExecuteAdditionalData } from 'n8n-workflow';

import { MicrosoftTeamsCallTrigger } from '../../nodes/MicrosoftTeamsCallTrigger/MicrosoftTeamsCallTrigger.node';
import type { HttpRequest } from '../../lib/graph/graphClient';

/** n8n-core's real `this.helpers.httpRequest`, from a hook context of a one-node workflow. */
export function n8nHttpRequest(): HttpRequest {
	const nodeType = new MicrosoftTeamsCallTrigger();
	const nodeTypes: INodeTypes = {
		getByName: () => nodeType,
		getByNameAndVersion: () => nodeType,
		getKnownTypes: () => ({}),
	};
	const node: INode = {
		id: 'a1b2c3d4-0000-4000-8000-0000000000ff',
		name: 'Teams Call Trigger',
		type: 'CUSTOM.microsoftTeamsCallTrigger',
		typeVersion: 2,
		position: [0, 0],
		parameters: {},
	};
	const workflow = new Workflow({ id: 'wf-http', nodes: [node], connections: {}, active: false, nodeTypes });
	const context = new HookContext(workflow, node, {} as IWorkflowExecuteAdditionalData, 'trigger', 'activate');
	return context.helpers.httpRequest.bind(context.helpers);
}
