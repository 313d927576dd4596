import { buildCallEvent } from '../test/simulator/callEvents';

/**
 * A call event as Graph sends it, padded with participant entries to about 1 KB of JSON (the size the
 * issue asks for; real callConversation resources are 0.5–1.5 KB).
 */
export function callEventOfAbout1Kb(resource: string, kind: 'started' | 'ended' = 'started'): Record<string, unknown> {
	const event = buildCallEvent({ resource }, { kind, direction: 'incoming' });
	const participants: Array<Record<string, unknown>> = [];
	const size = () => Buffer.byteLength(JSON.stringify({ ...event, participants }));
	let i = 0;
	while (size() < 1000) {
		participants.push({ id: `8:orgid:${String(i).padStart(8, '0')}-0000-4000-8000-00000000000${i % 10}`, role: i === 0 ? 'organizer' : 'attendee' });
		i += 1;
	}
	return { ...event, participants };
}

export const CALL_RESOURCE = (userId: string) => `users/${userId}/callConversations`;
