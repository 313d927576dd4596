import type { INodeProperties } from 'n8n-workflow';

import { CALL_RECORDS_MAX_LIFETIME_MINUTES, MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES } from '../../lib/subscriptions/callSources';
import { DEFAULT_RECORD_WAIT_SECONDS } from '../../lib/trigger/triggerParameters';
import { includeRawNotificationOption, lifetimeOption } from './sharedOptions';

/** The resource selector: each source shows only its own fields. The default is the source of every workflow saved before there was a choice. */
export const sourceProperty: INodeProperties = {
	displayName: 'Source',
	name: 'source',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Call Events (Preview)',
			value: 'callEvents',
			description: 'Start and end of each call of the watched users, within seconds. A Graph preview most tenants do not have.',
		},
		{
			name: 'Call Records',
			value: 'callRecords',
			description: 'The record of each call after it ended (Graph v1.0, released): usually within 30 minutes, at most 150',
		},
		{
			name: 'Meeting Call Events (Beta)',
			value: 'meetingCallEvents',
			description: 'Start, end and roster changes of the call of each listed Teams meeting, within seconds (Graph beta)',
		},
	],
	default: 'callEvents',
};

/** A source's properties, shown only when it is chosen. */
export function onlyForSource(source: string, properties: INodeProperties[]): INodeProperties[] {
	return properties.map((property) => ({
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { ...property.displayOptions?.show, source: [source] },
		},
	}));
}

/** Shown only for Call Records (the node file applies onlyForSource). */
export const callRecordProperties: INodeProperties[] = [
	{
		displayName:
			'Needs the application permission CallRecords.Read.All (and User.Read.All to look up user principal names), and an n8n reachable over public HTTPS. Microsoft Graph sends a call record on average within 30 minutes of the end of the call, at most within 150.',
		name: 'callRecordsNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Users',
		name: 'recordUsers',
		type: 'string',
		typeOptions: { multipleValues: true, multipleValueButtonText: 'Add User' },
		default: [],
		placeholder: 'adele@contoso.com or 5f0a6a4e-…',
		description: 'Users whose calls start the workflow, by user principal name or Entra object ID. Leave empty for every call in the tenant.',
	},
	{
		displayName: 'Filter',
		name: 'recordFilter',
		type: 'options',
		noDataExpression: true,
		// Only with users listed: without any, every call of the tenant runs either way.
		displayOptions: { show: { recordUsers: [{ _cnd: { exists: true } }] } },
		options: [
			{
				name: 'In Graph',
				value: 'inGraph',
				description:
					'Microsoft Graph notifies only calls of the listed users (one subscription per about 50 users). Its filter is on a property Graph deprecated; the missed-record sweep reports when Graph stops matching it.',
			},
			{
				name: 'After Reading',
				value: 'afterReading',
				description:
					'One subscription for every call of the tenant; each record is read and runs only when a listed user took part. More reads: one per call of the tenant.',
			},
		],
		default: 'inGraph',
		description: 'Where the calls of the listed users are picked out from the calls of the tenant',
	},
	{
		displayName: 'Events',
		name: 'recordEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Call Ended', value: 'callEnded', description: 'The first record of a call' },
			{ name: 'Call Record Updated', value: 'callRecordUpdated', description: 'A later version of a record (Graph revises some records)' },
		],
		default: ['callEnded'],
	},
	{
		displayName: 'Options',
		name: 'recordOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			includeRawNotificationOption,
			{
				displayName: 'Include Sessions and Segments',
				name: 'includeSessions',
				type: 'boolean',
				default: false,
				description: 'Whether to read every session of the call with its segments (devices, networks, media quality) into the item',
			},
			{
				displayName: 'Recover Missed Call Records',
				name: 'recoverMissedCallRecords',
				type: 'boolean',
				default: true,
				description:
					'Whether to list the call records of the last 4 hours every 15 minutes and run the workflow once for each record of a watched user whose notification never came (Graph has had hours-long notification outages); in queue mode the main lists them and the workers run them',
			},
			lifetimeOption(CALL_RECORDS_MAX_LIFETIME_MINUTES),
			{
				displayName: 'Wait for New Records (Seconds)',
				name: 'waitForRecordSeconds',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 3600 },
				default: DEFAULT_RECORD_WAIT_SECONDS,
				description: 'How long to keep asking Graph for a notified record it cannot return yet; a record still missing then is dropped and logged',
			},
		],
	},
];

/** Shown only for Meeting Call Events (the node file applies onlyForSource). */
export const meetingCallEventProperties: INodeProperties[] = [
	{
		displayName:
			'Needs the application permission OnlineMeetings.Read.All, an application access policy that lets the app read the organizers\' meetings (New-CsApplicationAccessPolicy, then Grant-CsApplicationAccessPolicy), the notification certificate credential, and an n8n reachable over public HTTPS. Microsoft Graph serves meeting call events in beta only.',
		name: 'meetingCallEventsNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Meeting Join URLs',
		name: 'meetingJoinUrls',
		type: 'string',
		typeOptions: { multipleValues: true, multipleValueButtonText: 'Add Meeting' },
		default: [],
		placeholder: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_…/0?context=…',
		description: 'The join link of each Teams meeting to watch, as in the invitation ("Join the meeting now"); one subscription per meeting',
	},
	{
		displayName: 'Events',
		name: 'meetingEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Call Started', value: 'callStarted', description: 'The meeting\'s call began' },
			{ name: 'Call Ended', value: 'callEnded', description: 'The meeting\'s call ended' },
			{ name: 'Roster Updated', value: 'rosterUpdated', description: 'Someone joined or left the call' },
		],
		default: ['callStarted', 'callEnded'],
	},
	{
		displayName: 'Options',
		name: 'meetingOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			includeRawNotificationOption,
			lifetimeOption(MEETING_CALL_EVENTS_MAX_LIFETIME_MINUTES),
		],
	},
];
