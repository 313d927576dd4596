/**
 * The subscription resource for one meeting's call events, and the way back from a notification's
 * resource to the meeting. Graph has documented two forms:
 *   communications/onlineMeetings(joinWebUrl='<join URL, percent-encoded once more>')/meetingCallEvents
 *   communications/onlineMeetings/?$filter=JoinWebUrl eq '<join URL>'   (an earlier revision)
 * and notifications spell the second one `onlineMeetings?$filter=joinWebUrl+eq+'…'`.
 */
const KEY_FORM = /onlineMeetings\(joinWebUrl='([^']*)'\)\/meetingCallEvents/i;
const FILTER_FORM = /onlineMeetings\/?\?\$filter=joinWebUrl(?:\+|\s|%20)+eq(?:\+|\s|%20)+'([^']*)'/i;

/** The join URL goes inside an OData string literal in a URL path: percent-encode it, quote included. */
export function meetingCallEventsResource(joinUrl: string): string {
	const encoded = encodeURIComponent(joinUrl).replace(/'/g, '%27');
	return `communications/onlineMeetings(joinWebUrl='${encoded}')/meetingCallEvents`;
}

/** The meeting's join URL a notification's resource names, in either form; undefined for any other resource. */
export function joinUrlOfResource(resource: string): string | undefined {
	const keyed = KEY_FORM.exec(resource);
	if (keyed) return decodeOnce(keyed[1]);
	const filtered = FILTER_FORM.exec(resource);
	if (filtered) return /^https?%3a/i.test(filtered[1]) ? decodeOnce(filtered[1]) : filtered[1];
	return undefined;
}

/**
 * Whether two spellings name one meeting: Graph may echo the join URL with other percent-escapes or host
 * case. The thread and meeting IDs inside are case-sensitive, so only the escapes and the host are evened out.
 */
export function sameMeeting(a: string, b: string): boolean {
	return meetingKey(a) === meetingKey(b);
}

function meetingKey(joinUrl: string): string {
	let value = joinUrl.trim();
	for (let round = 0; round < 3; round++) {
		const decoded = decodeOnce(value);
		if (decoded === undefined || decoded === value) break;
		value = decoded;
	}
	return value.replace(/^(https?:\/\/[^/]+)/i, (origin) => origin.toLowerCase());
}

function decodeOnce(value: string): string | undefined {
	try {
		return decodeURIComponent(value);
	} catch {
		return undefined;
	}
}
