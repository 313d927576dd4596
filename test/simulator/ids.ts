import { randomUUID } from 'crypto';

/** Graph and Entra identify everything with lower-case GUIDs; tests compare them as strings. */
export const newGuid = (): string => randomUUID();

/** The "Microsoft Graph Change Tracking" app: the publisher of change notifications and their validation tokens. */
export const GRAPH_CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';

/** Graph writes ISO timestamps with 7 fractional digits; parsers must cope with that, so the simulator does too. */
export function graphDateTime(ms: number): string {
	return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}
