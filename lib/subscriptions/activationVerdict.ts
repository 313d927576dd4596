import type { CallSource } from './callSources';
import { explainSubscriptionError } from './explainSubscriptionError';
import { failureKind, type FailureKind } from './failureKind';

export interface UserFailure {
	user: string;
	kind: FailureKind;
	/** Worded for the workflow author: who, what went wrong, what to change. */
	message: string;
	error: unknown;
}

/** Activation refused: nothing can work as things stand. The message says what to change. */
export class ActivationRefusedError extends Error {
	override name = 'ActivationRefusedError';

	constructor(
		message: string,
		readonly failures: UserFailure[],
	) {
		super(message);
	}
}

export function userFailure(error: unknown, user: string, notificationUrl: string, source?: CallSource): UserFailure {
	return { user, kind: failureKind(error), message: explainSubscriptionError(error, user, notificationUrl, source), error };
}

/**
 * Whether an activation (or the check at n8n's start) must be refused, and why. It goes ahead as long
 * as one user works or a failure may pass: the renewal timer subscribes the rest and reports them. It
 * is refused when nothing can work for anyone: a credential rejected, or every user refused for good
 * (permission missing, user unknown, URL that Graph cannot validate). A refusal makes n8n remove the
 * webhooks (and call delete()), so a transient outage must never lead here.
 */
export function refusalFor(failures: UserFailure[], working: number, allOrNothing: boolean): string | undefined {
	if (failures.length === 0) return undefined;
	if (!allOrNothing && working > 0) return undefined;
	const setup = failures.find((failure) => failure.kind === 'setup');
	// A rejected credential reads the same for every user: say it once, without a user in front.
	if (setup) return setup.message.startsWith(`${setup.user}: `) ? setup.message.slice(setup.user.length + 2) : setup.message;
	if (!allOrNothing && failures.some((failure) => failure.kind === 'transient')) return undefined;
	const shown = failures.slice(0, 3).map((failure) => failure.message);
	const more = failures.length > shown.length ? ` (and ${failures.length - shown.length} more users)` : '';
	return `${shown.join('; ')}${more}`;
}
