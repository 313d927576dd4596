/**
 * Why an encrypted notification could not be opened. Each case has its own class so callers can
 * answer precisely; no message ever carries key material, the symmetric key or the plaintext.
 */
export type DecryptionFailure =
	| 'MALFORMED_CONTENT'
	| 'UNKNOWN_CERTIFICATE_ID'
	| 'WRONG_KEY'
	| 'SIGNATURE_MISMATCH'
	| 'BAD_PADDING'
	| 'NOT_JSON';

export abstract class NotificationDecryptionError extends Error {
	abstract readonly code: DecryptionFailure;
}

export class MalformedEncryptedContentError extends NotificationDecryptionError {
	readonly code = 'MALFORMED_CONTENT';
	override name = 'MalformedEncryptedContentError';
}

export class UnknownCertificateIdError extends NotificationDecryptionError {
	readonly code = 'UNKNOWN_CERTIFICATE_ID';
	override name = 'UnknownCertificateIdError';

	constructor(readonly certificateId: string) {
		super(
			`The notification was encrypted for certificate ID "${certificateId.slice(0, 128)}", which this credential does not hold. If the encryption certificate was rotated, keep the previous one in the credential until its subscriptions are renewed`,
		);
	}
}

export class WrongKeyError extends NotificationDecryptionError {
	readonly code = 'WRONG_KEY';
	override name = 'WrongKeyError';
}

export class SignatureMismatchError extends NotificationDecryptionError {
	readonly code = 'SIGNATURE_MISMATCH';
	override name = 'SignatureMismatchError';
}

export class BadPaddingError extends NotificationDecryptionError {
	readonly code = 'BAD_PADDING';
	override name = 'BadPaddingError';
}

export class NotJsonError extends NotificationDecryptionError {
	readonly code = 'NOT_JSON';
	override name = 'NotJsonError';
}
