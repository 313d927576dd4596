import { callRecordItem } from '../../../lib/notifications/callRecordItem';

const notification = { subscriptionId: 'sub-1', clientState: 'secret-state', changeType: 'created', tenantId: 'tenant-1', resource: 'communications/callRecords/r1' };

describe('callRecordItem', () => {
	it('prefers participants_v2 and organizer_v2, and flattens every kind of identity', () => {
		const record = {
			id: 'r1',
			version: 3,
			type: 'peerToPeer',
			modalities: ['audio'],
			startDateTime: '2026-01-01T10:00:00.0000000Z',
			endDateTime: '2026-01-01T10:01:30.4000000Z',
			organizer_v2: { id: 'u1', identity: { user: { id: 'u1', displayName: 'Adele', tenantId: 't' } } },
			participants_v2: [
				{ id: 'u1', identity: { user: { id: 'u1', displayName: 'Adele', tenantId: 't', userPrincipalName: 'adele@x' } } },
				{ id: 'p1', identity: { phone: { id: '+15551234', displayName: null } } },
			],
			participants: [{ user: { id: 'old' } }],
			futureField: { kept: true },
		};
		const item = callRecordItem({ detectedBy: 'notification', notification }, record, 'callEnded', '2026-01-01T11:00:00.000Z', false);
		expect(item).toMatchObject({
			event: 'callEnded',
			source: 'callRecords',
			callId: 'r1',
			duration: 90,
			version: 3,
			organizer: { id: 'u1', displayName: 'Adele', kind: 'user', tenantId: 't', userPrincipalName: null },
			participants: [
				{ id: 'u1', displayName: 'Adele', kind: 'user', tenantId: 't', userPrincipalName: 'adele@x' },
				{ id: '+15551234', displayName: null, kind: 'phone', tenantId: null, userPrincipalName: null },
			],
			joinWebUrl: null,
			data: record,
		});
		expect(item).not.toHaveProperty('rawNotification');
	});

	it('copes with a record without times, organizer or participants', () => {
		const item = callRecordItem({ detectedBy: 'notification', notification }, { id: 'r2' }, 'callRecordUpdated', 'now', true);
		expect(item).toMatchObject({ duration: null, organizer: null, participants: [], modalities: [], version: null, startDateTime: null });
		expect(item.rawNotification).not.toHaveProperty('clientState');
	});

	it('says how the record was found: by its notification, or by the sweep with no notification behind it', () => {
		const record = { id: 'r3', version: 1, startDateTime: '2026-01-01T10:00:00Z', endDateTime: '2026-01-01T10:00:30Z' };
		expect(callRecordItem({ detectedBy: 'notification', notification }, record, 'callEnded', 'now', false)).toMatchObject({
			detectedBy: 'notification',
			subscriptionId: 'sub-1',
			tenantId: 'tenant-1',
			changeType: 'created',
		});
		const swept = callRecordItem({ detectedBy: 'sweep', tenantId: 'tenant-2' }, record, 'callEnded', 'now', true);
		expect(swept).toMatchObject({ detectedBy: 'sweep', subscriptionId: null, tenantId: 'tenant-2', changeType: null, rawNotification: null, callId: 'r3', duration: 30 });
		const fromNotification = callRecordItem({ detectedBy: 'notification', notification }, record, 'callEnded', 'now', true);
		expect(Object.keys(swept)).toEqual(Object.keys(fromNotification));
	});
});
