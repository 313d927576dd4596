import { appCredentialFor, CLIENT_ID, startTriggerFixture, TENANT, USERS, type TriggerFixture } from '../../support/triggerFixture';
import type { StoredSubscription } from '../../simulator';

/**
 * Call records that cannot be read, through n8n-core's contexts against the Graph and login simulator: a secret
 * rotated while the credential was cached, and what the user sees for a record that stays unreadable.
 */

const [adele, bianca] = USERS;
const PERMISSIONS = ['CallRecords.Read.All', 'User.Read.All'];
const ROTATED_SECRET = 'Qq7~rotated.secret-value_KLMNOPQRSTU';
let fixture: TriggerFixture;

afterEach(async () => fixture?.close());

async function activated(options: { waitForRecordSeconds?: number; withTimer?: boolean } = {}) {
	fixture = await startTriggerFixture(
		{ source: 'callRecords', recordUsers: [adele.id, bianca.id], recordOptions: { waitForRecordSeconds: options.waitForRecordSeconds ?? 4 } },
		{ permissions: PERMISSIONS, withoutCertificateCredential: true },
	);
	if (options.withTimer) await fixture.harness.startTrigger();
	await fixture.harness.activate();
	fixture.sim.clearRequests();
}

const subscription = (): StoredSubscription => fixture.sim.subscriptions()[0] as StoredSubscription;
const recordOf = () => fixture.sim.addCallRecord({ type: 'peerToPeer', modalities: ['audio'], organizer: adele, participants: [adele, bianca] });
const notificationOf = (id: string) => fixture.sim.callRecordNotificationFor(subscription(), id);
const emittedIds = () => fixture.harness.runs.map((execution) => execution.items.map((item) => item.json.callId));
const tokenStatuses = () => fixture.sim.findRequests({ method: 'POST', path: /oauth2\/v2\.0\/token$/ }).map((request) => request.status);

/** The app's secret is replaced in Entra ID, and the token issued with the old one has run out. */
function rotateSecretInEntra(): void {
	fixture.sim.registerApp({ tenantId: TENANT, clientId: CLIENT_ID, secrets: [{ value: ROTATED_SECRET }], permissions: PERMISSIONS });
	fixture.sim.revokeTokens(CLIENT_ID);
}

describe('a credential edited while it was cached', () => {
	it('reads the credential again when Entra ID refuses the cached one, and reads the record with the new secret', async () => {
		await activated();
		await fixture.deliver([notificationOf(recordOf().id)]);
		expect(emittedIds()).toHaveLength(1);
		const readsBefore = fixture.harness.credentialReads.microsoftGraphAppApi ?? 0;

		rotateSecretInEntra();
		fixture.harness.setAppCredential({ ...appCredentialFor(fixture.sim), clientSecret: ROTATED_SECRET });
		fixture.sim.clearRequests();
		const record = recordOf();
		await fixture.deliver([notificationOf(record.id)]);

		expect(fixture.harness.executions.map((execution) => execution.error?.message)).toEqual([undefined, undefined]);
		expect(emittedIds()[1]).toEqual([record.id]);
		// The cached secret is refused once (AADSTS7000215), the credential read once more, the new secret accepted.
		expect(tokenStatuses()).toEqual([401, 200]);
		expect(fixture.harness.credentialReads.microsoftGraphAppApi).toBe(readsBefore + 1);
	});

	it('reports a failed execution when the credential read again is refused too, and runs the record once it is fixed', async () => {
		await activated();
		rotateSecretInEntra();
		const readsBefore = fixture.harness.credentialReads.microsoftGraphAppApi ?? 0;
		const record = recordOf();
		await fixture.deliver([notificationOf(record.id)]);

		const [execution] = fixture.harness.executions;
		expect(execution.items).toEqual([]);
		expect(execution.error?.message).toBe(
			`Could not read call record ${record.id} from Microsoft Graph: Entra ID refused a token for the app credential, also after reading the credential again: The client secret is wrong. In Entra ID > App registrations > Certificates & secrets, copy the secret's Value (shown only when it is created), not its Secret ID (AADSTS7000215). Fix the Microsoft Graph app credential.`,
		);
		// Read for this execution, and once more after Entra ID refused it: not again for the second attempt.
		expect(fixture.harness.credentialReads.microsoftGraphAppApi).toBe(readsBefore + 2);

		// Not marked as run in n8n's store: once the credential is fixed, Graph's redelivery runs it.
		fixture.harness.setAppCredential({ ...appCredentialFor(fixture.sim), clientSecret: ROTATED_SECRET });
		await fixture.deliver([notificationOf(record.id)]);
		expect(emittedIds()).toEqual([[record.id]]);
	});
});

describe('a record that cannot be read', () => {
	it('without the permission to read it (403): a failed execution that names the record and the permission', async () => {
		await activated();
		const record = recordOf();
		fixture.sim.injectFault({ method: 'GET', pathPattern: new RegExp(`callRecords/${record.id}`), status: 403, code: 'Forbidden', message: 'Insufficient privileges to complete the operation.' });
		await fixture.deliver([notificationOf(record.id)]);

		const [execution] = fixture.harness.executions;
		expect(execution.items).toEqual([]);
		expect(execution.error?.message).toMatch(
			new RegExp(`^Could not read call record ${record.id} from Microsoft Graph: Microsoft Graph answered 403 Forbidden to GET /v1.0/communications/callRecords/${record.id}\\?.*: Insufficient privileges to complete the operation\\..*\\. The app needs the Microsoft Graph application permission CallRecords\\.Read\\.All with admin consent`),
		);
	});

	it('while Graph keeps failing (503) past the retries and the wait: a failed execution that says it is Graph', async () => {
		await activated({ waitForRecordSeconds: 1 });
		const record = recordOf();
		fixture.sim.injectFault({ method: 'GET', pathPattern: new RegExp(`callRecords/${record.id}`), status: 503, code: 'serviceUnavailable', message: 'Service unavailable', times: 100 });
		await fixture.deliver([notificationOf(record.id)]);

		const [execution] = fixture.harness.executions;
		expect(execution.items).toEqual([]);
		expect(execution.error?.message).toMatch(
			new RegExp(`^Could not read call record ${record.id} from Microsoft Graph: Microsoft Graph kept failing for all of Wait for New Records \\(1 s\\), retries included: Microsoft Graph answered 503 serviceUnavailable .*usually a Graph incident`),
		);
	});

	it('that Graph announced but never serves (404 for the whole wait): a failed execution, not only a warning', async () => {
		await activated({ waitForRecordSeconds: 2 });
		const missing = 'deadbeef-0000-4000-8000-000000000000';
		await fixture.deliver([notificationOf(missing)]);

		const [execution] = fixture.harness.executions;
		expect(execution.items).toEqual([]);
		expect(execution.error?.message).toBe(
			`Could not read call record ${missing} from Microsoft Graph: Microsoft Graph announced this call record (the notification carried the subscription's secret clientState) but answered 404 for all of Wait for New Records (2 s). Graph can take longer to make a record readable: raise Wait for New Records.`,
		);
	});

	it('in a batch with a readable one: the readable record runs now, once; the trigger records a failed execution for the other', async () => {
		await activated({ withTimer: true });
		const readable = recordOf();
		const refused = recordOf();
		fixture.sim.injectFault({ method: 'GET', pathPattern: new RegExp(`callRecords/${refused.id}`), status: 403, code: 'Forbidden', message: 'Insufficient privileges to complete the operation.' });
		await fixture.deliver([notificationOf(readable.id), notificationOf(refused.id)]);

		expect(fixture.harness.executions.map((execution) => execution.error)).toEqual([undefined]);
		expect(emittedIds()).toEqual([[readable.id]]);
		expect(fixture.harness.failures.map((failure) => failure.message)).toEqual([
			expect.stringMatching(new RegExp(`^Could not read call record ${refused.id} from Microsoft Graph: Microsoft Graph answered 403 Forbidden`)),
		]);

		// Graph delivers both again once the read is allowed: only the record that did not run runs, once.
		await fixture.deliver([notificationOf(readable.id), notificationOf(refused.id)]);
		expect(emittedIds()).toEqual([[readable.id], [refused.id]]);
		expect(fixture.harness.failures).toHaveLength(1);
	});
});
