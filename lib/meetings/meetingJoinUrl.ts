/**
 * A Teams meeting is named, for Graph's meetingCallEvents, by its join URL. People paste these from
 * Outlook, the Teams client or a calendar API; this module turns what they paste into the join URL Graph
 * knows, or says precisely why it is not one.
 */
export class MeetingJoinUrlError extends Error {
	override name = 'MeetingJoinUrlError';
}

/** Hosts of Teams for work or school in the public and national clouds. */
const TEAMS_HOSTS = new Set([
	'teams.microsoft.com',
	'teams.cloud.microsoft',
	'gov.teams.microsoft.us',
	'teams.microsoft.us',
	'dod.teams.microsoft.us',
	'teams.microsoftonline.cn',
]);
/** Teams for personal accounts: Graph has no online meetings there. */
const CONSUMER_HOSTS = new Set(['teams.live.com']);
const SAFE_LINKS_HOST = /(^|\.)safelinks\.protection\.(outlook\.com|office365\.us|partner\.outlook\.cn)$/i;
/** `/l/meetup-join/<thread>/<message>` (the classic link) and `/meet/<meeting id>` (the short link). */
const MEETING_PATH = /^\/(l\/meetup-join\/[^/]+\/[^/]+|meet\/[^/]+)\/?$/i;

const shown = (value: string) => (value.length > 80 ? `${value.slice(0, 77)}…` : value);

/** The join URL as Graph stores it, from a link a person pasted (Safe Links wrapping removed). */
export function meetingJoinUrl(input: string): string {
	const text = input.trim();
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new MeetingJoinUrlError(
			`"${shown(text)}" is not a URL. Paste the meeting's join link, starting with https://teams.microsoft.com/l/meetup-join/ or https://teams.microsoft.com/meet/`,
		);
	}
	if (SAFE_LINKS_HOST.test(url.hostname)) {
		const wrapped = url.searchParams.get('url');
		if (!wrapped) throw new MeetingJoinUrlError(`"${shown(text)}" is a Safe Links address without the link it protects. Copy the meeting link from the Teams client instead`);
		return meetingJoinUrl(wrapped);
	}
	const host = url.hostname.toLowerCase();
	if (CONSUMER_HOSTS.has(host)) {
		throw new MeetingJoinUrlError(
			`"${shown(text)}" is a Teams meeting for personal accounts (teams.live.com); Microsoft Graph serves meeting call events only for work or school meetings`,
		);
	}
	if (url.protocol !== 'https:' || !TEAMS_HOSTS.has(host) || !MEETING_PATH.test(url.pathname)) {
		throw new MeetingJoinUrlError(
			`"${shown(text)}" is not a Teams meeting join link. It should look like https://teams.microsoft.com/l/meetup-join/19%3ameeting_…/0?context=… or https://teams.microsoft.com/meet/…; copy it from the meeting invitation ("Join the meeting now") or from the onlineMeeting's joinWebUrl`,
		);
	}
	// Graph compares the URL as the invitation carries it: keep its percent-escapes, query and case.
	return text.startsWith('https://') || text.startsWith('HTTPS://') ? text : url.href;
}
