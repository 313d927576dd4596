/**
 * Sweeps in a row that must each find records of watched users whose notification never came before the
 * canary reports. One such sweep is expected now and then: the first sweep after a restart hands on what ran
 * before it, and Graph sometimes notifies later than the 10 minutes' grace. Three in a row, 15 minutes apart,
 * with no notification in between, is half an hour of calls Graph did not notify: no longer a blip.
 */
export const CANARY_SWEEPS_IN_A_ROW = 3;
/** While the streak lasts, reported again at most this often. */
export const CANARY_REPORT_INTERVAL_MS = 60 * 60_000;

/**
 * The "In Graph" filter's canary, per trigger and process: counts the sweeps in a row that found missed
 * records of watched users, and says when that is worth a failed execution. Any call-record notification
 * that reaches the trigger ends the streak: Graph is delivering.
 */
export class FilterCanary {
	private streak = 0;
	private missed = 0;
	private lastReportedAt: number | undefined;

	notificationArrived(): void {
		this.streak = 0;
		this.missed = 0;
		this.lastReportedAt = undefined;
	}

	/** After a sweep: how many records it found missed. Returns the streak when it is worth a report. */
	sweepFound(missedRecords: number, now: number): { missedRecords: number; sweeps: number } | undefined {
		if (missedRecords === 0) {
			this.notificationArrived();
			return undefined;
		}
		this.streak += 1;
		this.missed += missedRecords;
		if (this.streak < CANARY_SWEEPS_IN_A_ROW) return undefined;
		if (this.lastReportedAt !== undefined && now - this.lastReportedAt < CANARY_REPORT_INTERVAL_MS) return undefined;
		this.lastReportedAt = now;
		return { missedRecords: this.missed, sweeps: this.streak };
	}
}

/** The failed execution's message: what happened, the likely cause, and the fix. */
export function filterCanaryMessage(missedRecords: number, sweeps: number): string {
	return (
		`Microsoft Graph sent no notification for ${missedRecords} call record(s) of the watched users found by the last ${sweeps} sweeps for missed records. ` +
		'They ran from the sweep, later than a notification would have brought them. Likely cause: Graph no longer matches the subscription\'s participants filter (it rests on a property Graph deprecated), ' +
		'or an incident in Graph\'s call-record notifications. Fix: set Filter to "After Reading" (one subscription for the whole tenant; each record is read and kept for the watched users).'
	);
}
