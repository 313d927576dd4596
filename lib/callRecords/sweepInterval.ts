import { SWEEP_INTERVAL_MS } from './findMissedCallRecords';

/**
 * Seconds between sweeps for missed call records (default 900). Shorter finds missed records sooner, and so
 * lets the "In Graph" filter's canary speak sooner, at the cost of more list requests (one per watched user and
 * page each sweep). The renewal timer ticks every 10 s, so that is the shortest that makes a difference.
 */
export const SWEEP_INTERVAL_VARIABLE = 'N8N_TEAMS_CALLS_SWEEP_INTERVAL_SECONDS';
const MIN_SECONDS = 10;
const MAX_SECONDS = 86_400;

export function sweepIntervalMs(environment: NodeJS.ProcessEnv = process.env): number {
	const configured = Number(environment[SWEEP_INTERVAL_VARIABLE]?.trim() || NaN);
	if (Number.isInteger(configured) && configured >= MIN_SECONDS && configured <= MAX_SECONDS) return configured * 1000;
	return SWEEP_INTERVAL_MS;
}
