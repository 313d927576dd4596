import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { IDataObject } from 'n8n-workflow';

import { meetingCallEventItem } from '../../../lib/meetings/meetingCallEventItem';
import { callEventItem } from '../../../lib/notifications/callEventItem';
import { callRecordItem } from '../../../lib/notifications/callRecordItem';

/**
 * Every field an item of any source can carry is documented where a workflow author looks: the node's
 * codex (n8n's node documentation data) and the README. Built from the real item builders, so a field
 * added to an item without its documentation fails here.
 */
const root = path.resolve(__dirname, '../../..');
const codex = JSON.parse(readFileSync(path.join(root, 'nodes/MicrosoftTeamsCallTrigger/MicrosoftTeamsCallTrigger.node.json'), 'utf8')) as {
	details?: string;
};
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
/** Words the README sets as code (`event`, `{ id, displayName }`): how it names fields. */
const readmeCodeWords = new Set([...readme.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)].flatMap((match) => match[1].match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []));

const notification = { subscriptionId: 'sub-1', tenantId: 'tenant-1', changeType: 'created', resource: 'r', clientState: 'secret' };
const participant = { user: { id: 'u-1', displayName: 'Adele', tenantId: 'tenant-1', userPrincipalName: 'adele@contoso.test' } };

const items: Record<string, IDataObject> = {
	callEvents: callEventItem(
		notification,
		{ eventType: 'Microsoft.Communication.CallConversationFuture', direction: 'sideways', csUrl: 'https://cs', callId: 'c-1' },
		{ userId: 'u-1', user: 'adele@contoso.test', userPrincipalName: 'adele@contoso.test', displayName: 'Adele', resource: 'r', clientState: 'secret' },
		'2026-12-01T00:00:00.000Z',
		true,
	),
	callRecords: callRecordItem(
		{ detectedBy: 'notification', notification },
		{
			id: 'rec-1',
			version: 1,
			type: 'groupCall',
			modalities: ['audio'],
			startDateTime: '2026-12-01T00:00:00Z',
			endDateTime: '2026-12-01T00:10:00Z',
			joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/x',
			organizer_v2: { id: 'u-1', identity: participant },
			participants_v2: [{ id: 'u-1', identity: participant }],
		},
		'callEnded',
		'2026-12-01T00:30:00.000Z',
		true,
	),
	meetingCallEvents: meetingCallEventItem(
		notification,
		{ eventType: 'callFuture', callId: 'c-2' },
		{ event: 'unknown', originalEventType: 'callFuture', eventDateTime: '2026-12-01T00:00:00Z', eventId: null, joined: [], left: [] },
		'https://teams.microsoft.com/l/meetup-join/y',
		'2026-12-01T00:00:01.000Z',
		true,
	),
	meetingRoster: meetingCallEventItem(
		notification,
		{ eventType: 'rosterUpdated' },
		{
			event: 'rosterUpdated',
			originalEventType: 'rosterUpdated',
			eventDateTime: '2026-12-01T00:00:00Z',
			eventId: 'e-1',
			joined: [{ id: 'u-1', displayName: 'Adele', tenantId: 'tenant-1', identityType: 'user', participantId: 'p-1', inLobby: false }],
			left: [],
		},
		'https://teams.microsoft.com/l/meetup-join/y',
		'2026-12-01T00:00:01.000Z',
		false,
	),
};

/** Top-level keys, plus the keys of the people an item lists (participants, organizer). */
function fieldsOf(item: IDataObject): string[] {
	const fields = new Set(Object.keys(item));
	const people = [item.organizer, ...(Array.isArray(item.participants) ? item.participants : [])];
	const roster = item.participants as { joined?: unknown[]; left?: unknown[] } | null;
	if (roster && !Array.isArray(roster)) people.push(...(roster.joined ?? []), ...(roster.left ?? []));
	for (const person of people) {
		if (person && typeof person === 'object') for (const key of Object.keys(person)) fields.add(key);
	}
	return [...fields];
}

const mentions = (text: string, field: string) => new RegExp(`\\b${field}\\b`).test(text);

describe('output items are documented field by field', () => {
	it.each(Object.entries(items))('%s: every field is in the codex details', (_source, item) => {
		expect(fieldsOf(item).filter((field) => !mentions(codex.details ?? '', field))).toEqual([]);
	});

	it.each(Object.entries(items))('%s: every field is in the README', (_source, item) => {
		expect(fieldsOf(item).filter((field) => !readmeCodeWords.has(field))).toEqual([]);
	});

	it('the sample items hold every optional field (raw notification, unknown event, roster people)', () => {
		expect(items.callEvents).toHaveProperty('originalDirection');
		expect(items.callEvents).toHaveProperty('originalEventType');
		expect(items.callRecords).toHaveProperty('rawNotification');
		expect(fieldsOf(items.meetingRoster)).toEqual(expect.arrayContaining(['participantId', 'inLobby']));
	});
});
