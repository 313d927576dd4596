import { AppCredentialError } from '../auth/appCredential';
import { TokenRequestError } from '../auth/tokenRequestError';
import { CertificateInputError } from '../certificates/errors';
import { GraphApiError } from '../graph/graphApiError';
import { UserLookupError } from '../graph/users';
import { SubscriptionConflictError } from './postSubscription';

/**
 * - setup: nothing can work for any user until a person changes a credential (rejected sign-in,
 *   unusable certificate);
 * - user: this user cannot be subscribed as things stand (not found, permission, conflict, refused URL);
 * - transient: Graph or the login host is throttling, failing or unreachable; trying later can work.
 */
export type FailureKind = 'setup' | 'user' | 'transient';

/**
 * Token errors that say the login host is failing, not that it refused us: OAuth's own codes for a
 * server that cannot answer now (RFC 6749 §4.1.2.1, §5.2) and Entra ID's "transient error".
 */
const TRANSIENT_TOKEN_ERRORS = new Set(['temporarily_unavailable', 'server_error', 'AADSTS90033']);

export function failureKind(error: unknown): FailureKind {
	if (error instanceof TokenRequestError) {
		return error.retryable || TRANSIENT_TOKEN_ERRORS.has(error.code) ? 'transient' : 'setup';
	}
	if (error instanceof CertificateInputError || error instanceof AppCredentialError) return 'setup';
	if (error instanceof GraphApiError) {
		if (error.isRetryable) return 'transient';
		return error.status === 401 ? 'setup' : 'user';
	}
	if (error instanceof UserLookupError || error instanceof SubscriptionConflictError) return 'user';
	// Unknown failures are retried rather than taken as final: a retry costs little, giving up costs calls.
	return 'transient';
}
