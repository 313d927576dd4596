import { meetingJoinUrl, MeetingJoinUrlError } from '../../../lib/meetings/meetingJoinUrl';
import { joinUrlOfResource, meetingCallEventsResource, sameMeeting } from '../../../lib/meetings/meetingCallEventsResource';

/** The join URL and the resource Graph's documentation gives for it (changenotifications-for-onlinemeeting). */
const DOC_JOIN_URL =
	'https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZmYwZTEyYjctZjA5MS00OTkzLWJhNzEtYzFiZDVjNGE0OGFj%40thread.v2/0?context=%7b%22Tid%22%3a%22909c6581-5130-43e9-88f3-fcb3582cde37%22%2c%22Oid%22%3a%22048c94fb-dda6-48b8-9fc8-6740ee418fb9%22%7d';
const DOC_RESOURCE =
	"communications/onlineMeetings(joinWebUrl='https%3A%2F%2Fteams.microsoft.com%2Fl%2Fmeetup-join%2F19%253ameeting_ZmYwZTEyYjctZjA5MS00OTkzLWJhNzEtYzFiZDVjNGE0OGFj%2540thread.v2%2F0%3Fcontext%3D%257b%2522Tid%2522%253a%2522909c6581-5130-43e9-88f3-fcb3582cde37%2522%252c%2522Oid%2522%253a%2522048c94fb-dda6-48b8-9fc8-6740ee418fb9%2522%257d')/meetingCallEvents";

describe('meetingJoinUrl', () => {
	it('keeps a classic join link exactly as the invitation carries it', () => {
		expect(meetingJoinUrl(`  ${DOC_JOIN_URL}\n`)).toBe(DOC_JOIN_URL);
	});

	it.each([
		'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj',
		'https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
		'https://dod.teams.microsoft.us/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
		'https://teams.microsoftonline.cn/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
	])('accepts %s', (link) => {
		expect(meetingJoinUrl(link)).toBe(link);
	});

	it('takes the meeting link out of an Outlook Safe Links wrapper', () => {
		const wrapped = `https://eur01.safelinks.protection.outlook.com/?url=${encodeURIComponent(DOC_JOIN_URL)}&data=05%7C02&reserved=0`;
		expect(meetingJoinUrl(wrapped)).toBe(DOC_JOIN_URL);
	});

	it.each([
		['not a link', /is not a URL\. Paste the meeting's join link/],
		['https://teams.live.com/meet/9876543210?p=abc', /personal accounts \(teams\.live\.com\).*work or school/],
		['http://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0', /is not a Teams meeting join link/],
		['https://teams.microsoft.com/l/chat/19%3aabc%40thread.v2/0', /is not a Teams meeting join link.*copy it from the meeting invitation/],
		['https://zoom.us/j/123456789', /is not a Teams meeting join link/],
		['https://teams.microsoft.com.evil.example/l/meetup-join/19%3ameeting_abc%40thread.v2/0', /is not a Teams meeting join link/],
		['https://eur01.safelinks.protection.outlook.com/?data=05', /Safe Links address without the link/],
	])('refuses %s with what to do', (link, message) => {
		expect(() => meetingJoinUrl(link)).toThrow(MeetingJoinUrlError);
		expect(() => meetingJoinUrl(link)).toThrow(message);
	});
});

describe('meetingCallEventsResource', () => {
	it('builds the resource of Graph\'s documented example from its join URL', () => {
		expect(meetingCallEventsResource(DOC_JOIN_URL)).toBe(DOC_RESOURCE);
	});

	it('escapes a quote, which would otherwise end the OData string', () => {
		expect(meetingCallEventsResource("https://teams.microsoft.com/meet/1?p=a'b")).toContain('p%3Da%27b');
	});

	it('finds the join URL in both resource forms Graph has documented', () => {
		expect(joinUrlOfResource(DOC_RESOURCE)).toBe(DOC_JOIN_URL);
		expect(joinUrlOfResource(`/${DOC_RESOURCE}`)).toBe(DOC_JOIN_URL);
		expect(joinUrlOfResource(`communications/onlineMeetings?$filter=joinWebUrl+eq+'${DOC_JOIN_URL}'`)).toBe(DOC_JOIN_URL);
		expect(joinUrlOfResource(`/communications/onlineMeetings/?$filter=JoinWebUrl eq '${DOC_JOIN_URL}'`)).toBe(DOC_JOIN_URL);
		expect(joinUrlOfResource(`communications/onlineMeetings?$filter=joinWebUrl+eq+'${encodeURIComponent(DOC_JOIN_URL)}'`)).toBe(DOC_JOIN_URL);
		expect(joinUrlOfResource('users/aaaaaaaa-0000-4000-8000-000000000001/callConversations')).toBeUndefined();
		expect(joinUrlOfResource("communications/onlineMeetings(joinWebUrl='%E0%A4%A')/meetingCallEvents")).toBeUndefined();
	});

	it('tells one meeting from another whatever the escapes and host case', () => {
		const reEscaped = DOC_JOIN_URL.replace('https://teams.microsoft.com', 'https://Teams.Microsoft.com').replace(/%3a/g, '%3A');
		expect(sameMeeting(DOC_JOIN_URL, reEscaped)).toBe(true);
		expect(sameMeeting(DOC_JOIN_URL, DOC_JOIN_URL.replace('ZmYwZTEy', 'zmYwZTEy'))).toBe(false);
		expect(sameMeeting(DOC_JOIN_URL, DOC_JOIN_URL.replace('048c94fb', '048c94fc'))).toBe(false);
	});
});
