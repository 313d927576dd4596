import type { Logger } from 'n8n-workflow';

/**
 * The changeType values whose meaning the node knows. Graph's enumeration is evolvable (`unknownFutureValue`
 * stands for values added later, and is itself a v1.0 member since September 2026): a notification with any
 * other value is still handled, by what its resource names, never refused.
 */
const KNOWN_CHANGE_TYPES = new Set(['created', 'updated', 'deleted']);

/** One debug line per unknown changeType value in a batch. */
export function logUnknownChangeTypes(items: ReadonlyArray<Record<string, unknown>>, logger: Pick<Logger, 'debug'>): void {
	const counts = new Map<string, number>();
	for (const { changeType } of items) {
		if (typeof changeType !== 'string' || KNOWN_CHANGE_TYPES.has(changeType)) continue;
		counts.set(changeType, (counts.get(changeType) ?? 0) + 1);
	}
	for (const [changeType, count] of counts) {
		logger.debug(`Handling ${count} notification(s) with changeType ${JSON.stringify(changeType.slice(0, 64))}, a value this node does not know, by their resource`);
	}
}
