import type { INodeProperties } from 'n8n-workflow';

import { includeRawNotificationOption, lifetimeOption } from './sharedOptions';

import { DEFAULT_RESOURCE_TEMPLATE, MAX_LIFETIME_MINUTES } from '../../lib/subscriptions/subscriptionSettings';

export const triggerProperties: INodeProperties[] = [
	{
		displayName:
			'Needs the application permission CallEvents.Read.All (and User.Read.All to look up user principal names), and an n8n reachable over public HTTPS (N8N_WEBHOOK_URL or WEBHOOK_URL)',
		name: 'setupNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Users',
		name: 'users',
		type: 'string',
		typeOptions: { multipleValues: true, multipleValueButtonText: 'Add User' },
		default: [],
		required: true,
		placeholder: 'adele@contoso.com or 5f0a6a4e-…',
		description: 'Users whose calls start the workflow, by user principal name or Entra object ID',
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		options: [
			{ name: 'Call Started', value: 'callStarted' },
			{ name: 'Call Ended', value: 'callEnded' },
		],
		default: ['callStarted', 'callEnded'],
		description: 'Which call events start the workflow. Events of a type Graph adds later are passed on as "unknown".',
	},
	{
		displayName: 'Directions',
		name: 'directions',
		type: 'multiOptions',
		options: [
			{ name: 'Incoming', value: 'incoming' },
			{ name: 'Outgoing', value: 'outgoing' },
		],
		default: ['incoming', 'outgoing'],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Emit Missed-Notification Events',
				name: 'emitMissedNotifications',
				type: 'boolean',
				default: false,
				description: 'Whether to output an item with event "missed" when Graph reports that notifications were lost',
			},
			{
				displayName: 'Graph API Version',
				name: 'apiVersion',
				type: 'options',
				options: [
					{ name: 'Beta', value: 'beta' },
					{ name: 'v1.0', value: 'v1.0' },
				],
				default: 'beta',
				description: 'Call events are a preview resource that lives in beta',
			},
			includeRawNotificationOption,
			{
				displayName: 'Resource Path',
				name: 'resourceTemplate',
				type: 'string',
				default: DEFAULT_RESOURCE_TEMPLATE,
				description: 'Graph resource per user; {ID} (in any case) is replaced by the user\'s object ID. For the renamed preview use users/{ID}/communications/callEvents.',
			},
			{
				displayName: 'Skip Validation Token Check (Weakens Security)',
				name: 'skipValidationTokenCheck',
				type: 'boolean',
				default: false,
				description:
					'Whether to accept notifications without verifying the tokens Microsoft Graph signs them with. Only for endpoints that cannot reach the Microsoft identity platform\'s signing keys; anyone who learns a client state could then run the workflow.',
			},
			lifetimeOption(MAX_LIFETIME_MINUTES),
		],
	},
];
