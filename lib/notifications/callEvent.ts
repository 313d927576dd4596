/**
 * The call-event resource is a Graph preview whose drafts spell things differently; this module is the
 * one place that knows the spellings. Unknown values pass through marked as unknown, never dropped.
 */
export type CallEventKind = 'callStarted' | 'callEnded' | 'unknown';
export type CallDirection = 'incoming' | 'outgoing' | 'unknown';

function bare(value: string): string {
	return value.trim().replace(/^\{+|\}+$/g, '').trim();
}

/**
 * Seen so far: "{Microsoft.Communication.CallConversationStarted}" (with or without braces),
 * "Microsoft.Communication.CallEventType.CallStarted", and the released enum's "callStarted".
 */
export function normaliseEventType(value: unknown): CallEventKind {
	if (typeof value !== 'string') return 'unknown';
	const lastSegment = bare(value).split('.').pop() ?? '';
	const match = /^call(?:conversation)?(started|ended)$/i.exec(lastSegment);
	if (!match) return 'unknown';
	return match[1].toLowerCase() === 'started' ? 'callStarted' : 'callEnded';
}

/** "incoming", "{incoming}", "Incoming", "microsoft.graph.callDirection.incoming". */
export function normaliseDirection(value: unknown): CallDirection {
	if (typeof value !== 'string') return 'unknown';
	const lastSegment = (bare(value).split('.').pop() ?? '').toLowerCase();
	return lastSegment === 'incoming' || lastSegment === 'outgoing' ? lastSegment : 'unknown';
}

/** The drafts call the event type `eventType`; the released callEvent resource calls it `callEventType`. */
export function eventTypeOf(resource: Record<string, unknown>): unknown {
	return resource.eventType ?? resource.callEventType;
}
