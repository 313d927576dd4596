import {
	NodeConnectionTypes,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeCredentialTestResult,
	type INodeType,
	type INodeTypeDescription,
	type IHookFunctions,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { testAppCredential, testNotificationCertificate } from '../../lib/credentials/testCredentials';
import { DEFERRED_ANSWER } from '../../lib/trigger/deferredAnswer';
import { handleWebhook } from '../../lib/trigger/handleWebhook';
import {
	checkSubscriptionsExist,
	createSubscriptionsHook,
	deleteSubscriptionsHook,
} from '../../lib/trigger/hookMethods';
import { executeDeliveries } from '../../lib/trigger/executeDeliveries';
import { startRenewalTimer } from '../../lib/trigger/renewalTimer';
import { callRecordProperties, meetingCallEventProperties, onlyForSource, sourceProperty } from './sourceProperties';
import { triggerProperties } from './triggerProperties';

/**
 * Microsoft Teams call events from Graph subscriptions, in two phases: webhook() admits what Graph delivers
 * and n8n acknowledges it once the execution is stored; execute(), which n8n runs first in that execution,
 * opens or reads it and drops what already ran. The trigger part runs the renewal timer and the sweep. The
 * work lives in lib/.
 */
export class MicrosoftTeamsCallTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Teams Call Trigger',
		name: 'microsoftTeamsCallTrigger',
		icon: { light: 'file:microsoftTeamsCall.svg', dark: 'file:microsoftTeamsCall.dark.svg' },
		group: ['trigger'],
		// Version 2 behaves exactly as version 1, which stays for workflows saved with it. For any webhook node
		// saved at typeVersion 1, n8n evaluates an expression on every request (webhook-helpers
		// parseRequestBody, for the built-in Webhook node's old binaryData option); at version 2 a batch of
		// notifications reaches the node without one, which spares n8n an expression isolate per batch when
		// it acquires them lazily (BENCHMARKS.md, part 5).
		version: [1, 2],
		defaultVersion: 2,
		// The labels a person reads in the Events field, not its stored values; call records name their source.
		subtitle:
			'={{$parameter["source"] === "meetingCallEvents" ? "Meetings: " + $parameter["meetingEvents"].join(", ").replace("callStarted", "Call Started").replace("callEnded", "Call Ended").replace("rosterUpdated", "Roster Updated") : $parameter["source"] === "callRecords" ? "Call Records: " + $parameter["recordEvents"].join(", ").replace("callEnded", "Call Ended").replace("callRecordUpdated", "Call Record Updated") : $parameter["events"].join(", ").replace("callStarted", "Call Started").replace("callEnded", "Call Ended")}}',
		description: 'Starts the workflow when a watched user\'s Microsoft Teams call starts or ends, or when its call record is ready',
		defaults: { name: 'Microsoft Teams Call Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			// The editor labels each selector with displayName; without it both read just "Credential".
			{ name: 'microsoftGraphAppApi', displayName: 'Azure App', required: true, testedBy: 'microsoftGraphAppApiTest' },
			{
				// The preview's and the meetings' rich notifications are encrypted; call records are basic.
				name: 'microsoftGraphNotificationCertificateApi',
				displayName: 'Notification Certificate',
				required: true,
				testedBy: 'microsoftGraphNotificationCertificateApiTest',
				displayOptions: { show: { source: ['callEvents', 'meetingCallEvents'] } },
			},
		],
		// Lifecycle first: n8n registers webhooks in this order, and Graph validates both URLs while the
		// subscription is created from the "default" webhook.
		webhooks: [
			{ name: 'setup', httpMethod: 'POST', responseMode: 'onReceived', ...DEFERRED_ANSWER, path: 'lifecycle' },
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', ...DEFERRED_ANSWER, path: 'notify' },
		],
		activationMessage:
			'Microsoft Graph now sends call events for the watched users; subscriptions are renewed automatically while the workflow is active.',
		eventTriggerDescription: 'Waiting for a Microsoft Teams call to start or end',
		properties: [
			sourceProperty,
			...onlyForSource('callEvents', triggerProperties),
			...onlyForSource('callRecords', callRecordProperties),
			...onlyForSource('meetingCallEvents', meetingCallEventProperties),
		],
	};

	methods = {
		credentialTest: {
			async microsoftGraphAppApiTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				return testAppCredential(credential.data ?? {});
			},
			async microsoftGraphNotificationCertificateApiTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				return testNotificationCertificate(credential.data ?? {});
			},
		},
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return checkSubscriptionsExist.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return createSubscriptionsHook.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return deleteSubscriptionsHook.call(this);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return handleWebhook.call(this);
	}

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		return startRenewalTimer.call(this);
	}

	/** n8n runs this first in every execution webhook() or the sweep starts: the deliveries become items. */
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return executeDeliveries(this);
	}
}
