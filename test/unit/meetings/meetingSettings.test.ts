import { meetingCallEventsResource } from '../../../lib/meetings/meetingCallEventsResource';
import { meetingSlotKey } from '../../../lib/subscriptions/callSources';
import { settingsKey, SubscriptionSettingsError, validateSettings } from '../../../lib/subscriptions/subscriptionSettings';

const STANDUP = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzM4YmJh%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
const meetings = (joinUrls: string[], lifetimeMinutes = 4230) =>
	validateSettings({ users: joinUrls, resourceTemplate: '', lifetimeMinutes, apiVersion: 'beta', source: 'meetingCallEvents', changeType: 'updated' });

describe('meeting call events settings', () => {
	it('keeps each join URL as pasted, unwraps Safe Links, drops duplicates, and stays on beta with updated', () => {
		const wrapped = `https://eur01.safelinks.protection.outlook.com/?url=${encodeURIComponent(STANDUP)}&data=05`;
		expect(meetings([` ${STANDUP} `, wrapped, ''])).toEqual({
			users: [STANDUP],
			resourceTemplate: '',
			lifetimeMinutes: 4230,
			apiVersion: 'beta',
			source: 'meetingCallEvents',
			changeType: 'updated',
		});
	});

	it('names the entry that is not a meeting link, by its position', () => {
		expect(() => meetings([STANDUP, 'https://teams.live.com/meet/9312'])).toThrow(
			new SubscriptionSettingsError('Meeting Join URL 2: "https://teams.live.com/meet/9312" is a Teams meeting for personal accounts (teams.live.com); Microsoft Graph serves meeting call events only for work or school meetings'),
		);
	});

	it('asks for at least one meeting, and a lifetime Graph allows', () => {
		expect(() => meetings([])).toThrow(/Add at least one Meeting Join URL/);
		expect(() => meetings([STANDUP], 4231)).toThrow(/1 to 4230 minutes \(Graph allows at most 3 days for meeting call events\)/);
	});

	it('has a settings key of its own, and stable slot keys per meeting', () => {
		const users = { users: [STANDUP], resourceTemplate: '', lifetimeMinutes: 60, apiVersion: 'beta' };
		expect(settingsKey(meetings([STANDUP]))).not.toBe(settingsKey(users));
		expect(meetingSlotKey(STANDUP)).toBe(meetingSlotKey(STANDUP));
		expect(meetingSlotKey(STANDUP)).toMatch(/^meeting:[0-9a-f]{16}$/);
		expect(meetingCallEventsResource(STANDUP)).toBe(`communications/onlineMeetings(joinWebUrl='${encodeURIComponent(STANDUP)}')/meetingCallEvents`);
	});
});
