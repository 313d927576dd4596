import type { IDataObject } from 'n8n-workflow';

/** A participant_v2 entity's Entra object ID: its own `id`, else its identity's user. */
function participantIdsOf(entity: IDataObject): string[] {
	const user = (entity.identity as IDataObject | undefined)?.user as IDataObject | undefined;
	return [entity.id, user?.id].filter((id): id is string => typeof id === 'string').map((id) => id.toLowerCase());
}

/**
 * Filter "After Reading": whether one of the watched users took part in the call, by the record's
 * participants_v2 as readCallRecord completes them. Participants count as the subscription filter
 * counts them (`participants/any(p:p/id …)`): an organizer who did not take part does not.
 */
export function hasWatchedParticipant(record: IDataObject, watchedIds: readonly string[]): boolean {
	const entities = Array.isArray(record.participants_v2) ? (record.participants_v2 as IDataObject[]) : [];
	const watched = new Set(watchedIds.map((id) => id.toLowerCase()));
	return entities.some((entity) => typeof entity === 'object' && entity !== null && participantIdsOf(entity).some((id) => watched.has(id)));
}
