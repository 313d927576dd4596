import { normaliseMeetingEventType, readMeetingCallEvent } from '../../../lib/meetings/meetingCallEvent';

const RESOURCE = "communications/onlineMeetings(joinWebUrl='x')/meetingCallEvents";

describe('normaliseMeetingEventType', () => {
	it.each([
		['callStarted', 'callStarted'],
		['callEnded', 'callEnded'],
		['rosterUpdated', 'rosterUpdated'],
		['Microsoft.Communication.CallStarted', 'callStarted'],
		['{Microsoft.Communication.CallEnded}', 'callEnded'],
		['Microsoft.Communication.CallRosterUpdate', 'rosterUpdated'],
		['Microsoft.Communication.CallRecordingStarted', 'unknown'],
		[42, 'unknown'],
	])('%s → %s', (value, kind) => {
		expect(normaliseMeetingEventType(value)).toBe(kind);
	});
});

describe('readMeetingCallEvent', () => {
	it('reads a current callStarted', () => {
		const event = readMeetingCallEvent({
			'@odata.type': '#microsoft.graph.callevent',
			'@odata.id': RESOURCE,
			id: 'a1b2c3',
			eventType: 'callStarted',
			eventDateTime: '2026-12-01T10:00:00.0000000Z',
		});
		expect(event).toEqual({
			event: 'callStarted',
			originalEventType: 'callStarted',
			eventDateTime: '2026-12-01T10:00:00.0000000Z',
			eventId: 'a1b2c3',
			joined: [],
			left: [],
		});
	});

	it('splits a current rosterUpdated into who joined (call or lobby) and who left', () => {
		const event = readMeetingCallEvent({
			id: 'n-1',
			eventType: 'rosterUpdated',
			eventDateTime: '2026-12-01T10:01:00Z',
			'participants@delta': [
				{ info: { identity: { user: { id: 'u-1', displayName: 'Adele Vance', tenantId: 't-1' } } }, isInLobby: false, id: 'p-1' },
				{ info: { identity: { guest: { id: 'g-2', displayName: 'A guest' } } }, isInLobby: true, id: 'p-2' },
				{
					info: { identity: { user: { id: 'u-3', displayName: 'Bianca Pisani', tenantId: 't-1' } } },
					isInLobby: false,
					removedState: { reason: 'Participant has left the meeting call.' },
					id: 'p-3',
				},
				'not a participant',
			],
		});
		expect(event.event).toBe('rosterUpdated');
		expect(event.joined).toEqual([
			{ id: 'u-1', displayName: 'Adele Vance', tenantId: 't-1', identityType: 'user', participantId: 'p-1', inLobby: false },
			{ id: 'g-2', displayName: 'A guest', tenantId: null, identityType: 'guest', participantId: 'p-2', inLobby: true },
		]);
		expect(event.left).toEqual([
			{ id: 'u-3', displayName: 'Bianca Pisani', tenantId: 't-1', identityType: 'user', participantId: 'p-3', inLobby: false },
		]);
	});

	it('reads the earlier spelling: CallRosterUpdate with activeParticipants@joined and @exited in PascalCase', () => {
		const event = readMeetingCallEvent({
			'@odata.type': '#Microsoft.Graph.onlineMeeting',
			id: "communications/onlineMeetings?$filter=joinWebUrl+eq+'x'",
			eventType: 'Microsoft.Communication.CallRosterUpdate',
			eventDateTime: '2022-02-28T00:00:00.0000000Z',
			state: 'active',
			'activeParticipants@joined': [{ id: 'User', identity: { User: { Id: 'u-1', DisplayName: 'Adele Vance', TenantId: 't-1' } } }],
			'activeParticipants@exited': [
				{
					id: 'ACS user',
					identity: { AzureCommunicationServicesUser: { AzureCommunicationServicesResourceId: 'r', Id: '8:acs:r_u', DisplayName: 'Kiosk' } },
				},
			],
		});
		expect(event).toEqual({
			event: 'rosterUpdated',
			originalEventType: 'Microsoft.Communication.CallRosterUpdate',
			eventDateTime: '2022-02-28T00:00:00.0000000Z',
			// The earlier revision's id is the resource path, not an event's identity.
			eventId: null,
			joined: [{ id: 'u-1', displayName: 'Adele Vance', tenantId: 't-1', identityType: 'user', participantId: 'User', inLobby: false }],
			left: [
				{ id: '8:acs:r_u', displayName: 'Kiosk', tenantId: null, identityType: 'azureCommunicationServicesUser', participantId: 'ACS user', inLobby: false },
			],
		});
	});

	it('keeps an unknown event type and tolerates missing or mistyped fields', () => {
		const event = readMeetingCallEvent({ eventType: 'Microsoft.Communication.CallOnHold', eventDateTime: 5, 'participants@delta': 'x' });
		expect(event).toEqual({ event: 'unknown', originalEventType: 'Microsoft.Communication.CallOnHold', eventDateTime: null, eventId: null, joined: [], left: [] });
	});
});
