import { AccessTokenAuthority } from './accessTokens';
import { buildCallEvent, type CallEventOptions } from './callEvents';
import {
	callRecordNotificationFor,
	CallRecordStore,
	type BasicCallRecordNotification,
	type CallRecordInput,
	type StoredCallRecord,
} from './callRecords';
import {
	buildMeetingCallEvent,
	MeetingDirectory,
	meetingNotificationFor,
	type BasicMeetingNotification,
	type MeetingEventOptions,
	type SimulatedMeeting,
} from './meetingCallEvents';
import { callRecordNotificationsFor, type ParticipantsFilterBehaviour } from './callRecordNotifier';
import { Deliverer, sendBatch, type BatchOptions, type DeliverOptions, type DeliveryAttempt, type DeliveryResult } from './delivery';
import { Directory, type AppRegistration, type AppRegistrationInput, type DirectoryUser } from './directory';
import { encryptForSubscription, type EncryptedContent } from './encryption';
import { FaultInjector, type ActiveFault, type FaultSpec } from './faults';
import { CallRecordThrottle } from './callRecordThrottling';
import { createGraphHandler } from './graphServer';
import { createLoginHandler, openIdConfiguration } from './loginServer';
import {
	lifecycleNotificationFor,
	notificationFor,
	signValidationToken,
	type ChangeNotificationItem,
	type LifecycleEvent,
	type LifecycleNotificationItem,
	type NotificationItem,
} from './notifications';
import { RequestLog, type LoggedRequest, type RequestFilter } from './requestLog';
import { createSigningKey, toJwk, type Jwk, type SigningKey } from './signingKeys';
import { SubscriptionStore, type StoredSubscription, type SubscriptionLike } from './subscriptionStore';
import { cachedServerCertificate, ensureTestCa } from './testCa';
import { listenTls, type TlsListener } from './tlsServer';
import type { HandshakeRecord } from './validationHandshake';

export type { CallEventOptions } from './callEvents';
export type { BasicCallRecordNotification, CallRecordInput, StoredCallRecord } from './callRecords';
export type { ParticipantsFilterBehaviour } from './callRecordNotifier';
export type { BasicMeetingNotification, MeetingEventOptions, MeetingPerson, SimulatedMeeting } from './meetingCallEvents';
export { MEETING_PERMISSIONS, NO_ACCESS_POLICY_MESSAGE } from './meetingCallEvents';
export { CALL_RECORDS_PERMISSION, MAX_SESSIONS_PAGE_SIZE } from './callRecords';
export {
	CALL_RECORDS_MAX_LIFETIME_MINUTES,
	CALL_RECORDS_RESOURCE_MAX_LENGTH,
	CALL_RECORDS_SUBSCRIPTIONS_PER_ORGANIZATION,
} from './callRecordSubscriptionRules';
export type { DeliveryAttempt, DeliveryResult, DeliverOptions, BatchOptions } from './delivery';
export type { AppRegistration, AppRegistrationInput, DirectoryUser } from './directory';
export type { EncryptedContent } from './encryption';
export type { FaultSpec } from './faults';
export type { ChangeNotificationItem, LifecycleEvent, LifecycleNotificationItem, NotificationItem } from './notifications';
export type { LoggedRequest, RequestFilter } from './requestLog';
export type { StoredSubscription, SubscriptionLike } from './subscriptionStore';
export type { HandshakeRecord } from './validationHandshake';
export { GRAPH_CHANGE_TRACKING_APP_ID } from './ids';
export { CALL_EVENT_TYPES } from './callEvents';
export { HANDSHAKE_MESSAGES } from './validationHandshake';
export { startWebhookReceiver } from './webhookReceiver';
export type { WebhookReceiver, WebhookReceiverOptions, ReceivedRequest } from './webhookReceiver';

/**
 * A local Microsoft login (Entra v2 token endpoint) + Microsoft Graph (users, subscriptions) over real
 * HTTPS, plus Graph's sending side (rich/lifecycle notifications, validation tokens, delivery with retries).
 * See test/simulator/README.md for usage.
 */
export interface GraphSimulatorOptions {
	/** Max subscription lifetime (callConversations: one day). */
	maxSubscriptionLifetimeMinutes?: number;
	/** Max lifetime of call-record subscriptions (Graph: 4,230 minutes, the default); lower for tests of renewal. */
	callRecordsMaxSubscriptionLifetimeMinutes?: number;
	/** Expiries closer than this are raised to it, as Graph does (45). 0 disables. */
	minSubscriptionLifetimeMinutes?: number;
	/** How long a webhook gets to answer a validation request (Graph: 10 s). */
	validationTimeoutMs?: number;
	/** Page size of GET /subscriptions. */
	pageSize?: number;
	/** Simulated clock for subscription and secret expiry (tokens use the wall clock). */
	now?: () => number;
	/** Answer a duplicate create with 409 (default true). */
	rejectDuplicates?: boolean;
	/** What counts as a duplicate: same resource whatever the URL (default: Graph's documented rule), or same resource and URL. */
	duplicateScope?: 'resourceAndUrl' | 'resource';
	/**
	 * Accept encryptionCertificate and encryptionCertificateId in a PATCH (default true: Graph's key-rotation
	 * guidance names that PATCH; its update page lists only expirationDateTime and notificationUrl).
	 */
	certificateUpdateByPatch?: boolean;
	/** Graph error code for a failed validation handshake (default 'InvalidRequest', as observed). */
	validationErrorCode?: string;
	/** Fail validation when the echo is not text/plain (default true). */
	requireTextPlainValidation?: boolean;
	/** Allow http:// notification URLs (default false; Graph requires https). */
	allowHttpNotificationUrl?: boolean;
	/** Refuse subscriptions without includeResourceData (default true: the call resources are rich-only). */
	richNotificationsOnly?: boolean;
	/** App roles, any one of which allows creating subscriptions (default ['CallEvents.Read.All']). */
	subscriptionPermissions?: string[];
	/** Where the test CA lives (default test/.generated). */
	caDir?: string;
	/** How long a new call record answers 404 before it can be read (default 0). */
	callRecordReadDelayMs?: number;
	/** Sessions per page of a call record (Graph: at most 60; default 60). */
	callRecordSessionsPageSize?: number;
	/** Longest call-records subscription resource accepted (default CALL_RECORDS_RESOURCE_MAX_LENGTH). */
	callRecordsResourceMaxLength?: number;
	/** How long each call-record read takes (default 0). */
	callRecordReadLatencyMs?: number;
	/** Participants per page of participants_v2 (Graph: at most 130; default 130). */
	callRecordParticipantsPageSize?: number;
	/**
	 * Whether Graph matches a call-records subscription's participants filter ('honoured', the default, as
	 * documented) or accepts it and never notifies it ('matchesNothing'); see callRecordNotifier.ts.
	 */
	callRecordsParticipantsFilter?: ParticipantsFilterBehaviour;
	/** Apply Graph's call-record throttling limits (429 + Retry-After past them; see callRecordThrottling.ts). Default false. */
	throttleCallRecords?: boolean;
}

export interface GraphSimulator {
	loginBaseUrl: string;
	graphBaseUrl: string;
	/** host:port of the login host, for MSAL's knownAuthorities. */
	loginHost: string;
	caCertPem: string;
	caCertPath: string;

	/** Optional verified domains, usable in place of the id in the authority (tokens carry the id). */
	registerTenant(tenantId: string, domains?: string[]): void;
	registerApp(input: AppRegistrationInput): AppRegistration;
	setAppPermissions(tenantId: string, clientId: string, permissions: string[]): void;
	addUser(user: DirectoryUser): DirectoryUser;
	removeUser(idOrUpn: string): void;
	/** The most call-record reads (GET communications/callRecords/{id}) Graph was answering at once. */
	readonly peakConcurrentRecordReads: number;
	/** TLS connections the Graph host accepted (handshakes completed): with keep-alive, fewer than requests. */
	readonly graphTlsConnectionsAccepted: number;
	/** The most subscription creations Graph was handling at once (each waits for the handshakes). */
	readonly peakConcurrentCreates: number;
	/** `https://localhost:PORT/{tenant}`: the MSAL authority. */
	authorityFor(tenantId: string): string;
	/** JSON string for MSAL's `authorityMetadata`, so it makes no discovery calls. */
	authorityMetadataFor(tenantId: string): string;
	tokenRequestCount(clientId: string): number;
	/** Invalidate every access token issued so far to this client (Graph then answers 401). */
	revokeTokens(clientId: string): void;

	readonly requests: LoggedRequest[];
	countRequests(filter?: RequestFilter): number;
	findRequests(filter?: RequestFilter): LoggedRequest[];
	clearRequests(): void;

	injectFault(spec: FaultSpec): ActiveFault;
	clearFaults(): void;

	/** Live subscriptions (all apps) by default. */
	subscriptions(options?: { includeInactive?: boolean }): StoredSubscription[];
	getSubscription(id: string): StoredSubscription | undefined;
	expireSubscription(id: string): StoredSubscription;
	removeSubscription(id: string): StoredSubscription;
	readonly handshakes: HandshakeRecord[];

	/** A call that ended: Graph now has its record (readable after callRecordReadDelayMs or notReadableForMs). */
	addCallRecord(input?: CallRecordInput): StoredCallRecord;
	/** A revision of the record: its version goes up. */
	updateCallRecord(id: string, changes: Parameters<CallRecordStore['update']>[1]): StoredCallRecord;
	/** A basic call-record notification (ID only) for the subscription. */
	callRecordNotificationFor(
		subscription: SubscriptionLike,
		recordId: string,
		changeType?: 'created' | 'updated',
		overrides?: Record<string, unknown>,
	): BasicCallRecordNotification;
	/**
	 * What Graph sends for the record: a basic notification for each live call-records subscription it matches
	 * (by change type, and by participants filter as `callRecordsParticipantsFilter` says).
	 */
	callRecordNotificationsFor(record: StoredCallRecord, changeType?: 'created' | 'updated'): BasicCallRecordNotification[];
	buildCallEvent(subscription: Pick<SubscriptionLike, 'resource'>, options: CallEventOptions): Record<string, unknown>;
	/** An online meeting of the tenant, by its join URL (what meetingCallEvents subscriptions name). */
	addMeeting(joinWebUrl: string, organizerId?: string): SimulatedMeeting;
	/** Grant-CsApplicationAccessPolicy for the app: without it Graph refuses app-only access to meetings (403). */
	grantMeetingAccessPolicy(clientId: string): void;
	revokeMeetingAccessPolicy(clientId: string): void;
	/** A meeting call event in the current spelling (callStarted, participants@delta) or the earlier one. */
	buildMeetingCallEvent(options: MeetingEventOptions, tenantId?: string): Record<string, unknown>;
	/** A notification for a meeting's subscription: rich (encrypted) unless `basic` or the subscription has no certificate. */
	meetingNotificationFor(
		subscription: SubscriptionLike,
		event: Record<string, unknown>,
		options?: { basic?: boolean; overrides?: Record<string, unknown> },
	): ChangeNotificationItem | BasicMeetingNotification;
	encryptForSubscription(subscription: SubscriptionLike, resource: Record<string, unknown> | string): EncryptedContent;
	notificationFor(subscription: SubscriptionLike, resource: Record<string, unknown>, overrides?: Record<string, unknown>): ChangeNotificationItem;
	lifecycleNotificationFor(subscription: SubscriptionLike, event: LifecycleEvent, overrides?: Record<string, unknown>): LifecycleNotificationItem;
	validationTokenFor(appId: string, tenantId: string, overrides?: Record<string, unknown>, options?: { foreignKey?: boolean }): string;
	/** The served JWKS ({ keys }). */
	jwks(): { keys: Jwk[] };
	deliver(url: string, body: unknown, options?: DeliverOptions): Promise<DeliveryResult>;
	sendBatch(items: Array<NotificationItem | BasicCallRecordNotification | BasicMeetingNotification>, options?: BatchOptions): Promise<DeliveryResult[]>;
	readonly deliveries: DeliveryAttempt[];

	close(): Promise<void>;
}

export async function startGraphSimulator(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
	const now = options.now ?? Date.now;
	const wallClock = Date.now;
	const ca = ensureTestCa(options.caDir);
	const serverCert = cachedServerCertificate(['localhost', '127.0.0.1'], options.caDir);
	const signingKey: SigningKey = createSigningKey();
	// A key that is not in the JWKS: for tokens that must fail verification.
	let foreignKey: SigningKey | undefined;

	const log = new RequestLog();
	const faults = new FaultInjector();
	const createConcurrency = { current: 0, peak: 0 };
	const recordReadConcurrency = { current: 0, peak: 0 };
	let graphTlsConnections = 0;
	const directory = new Directory();
	const store = new SubscriptionStore(now);
	const meetings = new MeetingDirectory();
	const callRecordStore = new CallRecordStore(now, () => options.callRecordReadDelayMs ?? 0);
	const handshakes: HandshakeRecord[] = [];
	const tokenCounts = new Map<string, number>();
	const deliverer = new Deliverer(ca.caCertPem);

	let loginBaseUrl = '';
	let graphBaseUrl = '';
	const tokens = new AccessTokenAuthority(signingKey, '', wallClock);
	const jwks = () => ({ keys: [{ ...toJwk(signingKey), issuer: `${loginBaseUrl}/{tenantid}/v2.0` }] });

	const listeners: TlsListener[] = [];
	try {
		const login = await listenTls(
			serverCert,
			createLoginHandler({
				directory,
				tokens,
				log,
				faults,
				jwks,
				loginBaseUrl: () => loginBaseUrl,
				graphBaseUrl: () => graphBaseUrl,
				now,
				wallClock,
				countTokenRequest: (clientId) => tokenCounts.set(clientId, (tokenCounts.get(clientId) ?? 0) + 1),
			}),
		);
		listeners.push(login);
		loginBaseUrl = login.baseUrl;

		const graph = await listenTls(
			serverCert,
			createGraphHandler({
				log,
				faults,
				tokens,
				directory,
				subscriptions: {
					store,
					rules: {
						now,
						maxLifetimeMinutes: options.maxSubscriptionLifetimeMinutes ?? 1440,
						minLifetimeMinutes: options.minSubscriptionLifetimeMinutes ?? 45,
						lifecycleUrlRequiredAfterMinutes: 60,
						allowHttpNotificationUrl: options.allowHttpNotificationUrl ?? false,
						richNotificationsOnly: options.richNotificationsOnly ?? true,
						findUser: (idOrUpn) => directory.findUser(idOrUpn),
						callRecordsResourceMaxLength: options.callRecordsResourceMaxLength,
						callRecordsMaxLifetimeMinutes: options.callRecordsMaxSubscriptionLifetimeMinutes,
					},
					handshake: {
						caCertPem: ca.caCertPem,
						timeoutMs: options.validationTimeoutMs ?? 10_000,
						errorCode: options.validationErrorCode ?? 'InvalidRequest',
						requireTextPlain: options.requireTextPlainValidation ?? true,
					},
					recordHandshake: (r) => handshakes.push(r),
					findApp: (tenantId, clientId) => directory.findApp(tenantId, clientId),
					graphBaseUrl: () => graphBaseUrl,
					pageSize: options.pageSize ?? 100,
					rejectDuplicates: options.rejectDuplicates ?? true,
					duplicateScope: options.duplicateScope ?? 'resource',
					certificateUpdateByPatch: options.certificateUpdateByPatch ?? true,
					subscriptionPermissions: options.subscriptionPermissions ?? ['CallEvents.Read.All'],
					createConcurrency,
					meetings,
					now,
				},
				callRecords: {
					store: callRecordStore,
					graphBaseUrl: () => graphBaseUrl,
					tenantIdOf: (caller) => caller.tid,
					sessionsPageSize: options.callRecordSessionsPageSize ?? 60,
					readLatencyMs: options.callRecordReadLatencyMs,
					participantsPageSize: options.callRecordParticipantsPageSize,
					readConcurrency: recordReadConcurrency,
				},
				callRecordThrottle: options.throttleCallRecords ? new CallRecordThrottle() : undefined,
			}),
		);
		listeners.push(graph);
		graph.server.on('secureConnection', () => graphTlsConnections++);
		graphBaseUrl = graph.baseUrl;
		tokens.setAudience(graphBaseUrl);
	} catch (error) {
		await Promise.all(listeners.map((l) => l.close()));
		throw error;
	}

	const validationTokenFor: GraphSimulator['validationTokenFor'] = (appId, tenantId, overrides, opts) => {
		let key = signingKey;
		if (opts?.foreignKey) key = foreignKey ??= createSigningKey();
		return signValidationToken(key, appId, tenantId, wallClock(), overrides);
	};

	return {
		loginBaseUrl,
		graphBaseUrl,
		loginHost: new URL(loginBaseUrl).host,
		caCertPem: ca.caCertPem,
		caCertPath: ca.caCertPath,

		registerTenant: (tenantId, domains) => directory.registerTenant(tenantId, domains),
		registerApp: (input) => directory.registerApp(input),
		setAppPermissions: (tenantId, clientId, permissions) => directory.setPermissions(tenantId, clientId, permissions),
		addUser: (user) => directory.addUser(user),
		removeUser: (idOrUpn) => directory.removeUser(idOrUpn),
		get graphTlsConnectionsAccepted() {
			return graphTlsConnections;
		},
		get peakConcurrentRecordReads() {
			return recordReadConcurrency.peak;
		},
		get peakConcurrentCreates() {
			return createConcurrency.peak;
		},
		authorityFor: (tenantId) => `${loginBaseUrl}/${tenantId}`,
		authorityMetadataFor: (tenantId) => JSON.stringify(openIdConfiguration(loginBaseUrl, tenantId)),
		tokenRequestCount: (clientId) => tokenCounts.get(clientId) ?? 0,
		revokeTokens: (clientId) => tokens.revoke(clientId),

		get requests() {
			return log.all();
		},
		countRequests: (filter) => log.count(filter),
		findRequests: (filter) => log.filter(filter),
		clearRequests: () => log.clear(),

		injectFault: (spec) => faults.add(spec),
		clearFaults: () => faults.clear(),

		subscriptions: (o) => (o?.includeInactive ? store.all() : store.listLive()),
		getSubscription: (id) => store.find(id),
		expireSubscription: (id) => store.setState(id, 'expired'),
		removeSubscription: (id) => store.setState(id, 'removed'),
		handshakes,

		addCallRecord: (input = {}) => callRecordStore.add(input),
		updateCallRecord: (id, changes) => callRecordStore.update(id, changes),
		callRecordNotificationFor: (subscription, recordId, changeType, overrides) =>
			callRecordNotificationFor(subscription, recordId, changeType, overrides),
		callRecordNotificationsFor: (record, changeType = 'created') =>
			callRecordNotificationsFor(store.listLive(), record, changeType, options.callRecordsParticipantsFilter ?? 'honoured'),
		buildCallEvent: (subscription, o) => buildCallEvent(subscription, o),
		addMeeting: (joinWebUrl, organizerId) => meetings.add(joinWebUrl, organizerId ?? ''),
		grantMeetingAccessPolicy: (clientId) => meetings.grantAccessPolicy(clientId),
		revokeMeetingAccessPolicy: (clientId) => meetings.revokeAccessPolicy(clientId),
		buildMeetingCallEvent: (o, tenantId) => buildMeetingCallEvent(o, tenantId),
		meetingNotificationFor: (subscription, event, o) => meetingNotificationFor(subscription, event, o),
		encryptForSubscription: (subscription, resource) => encryptForSubscription(subscription, resource),
		notificationFor: (subscription, resource, overrides) => notificationFor(subscription, resource, overrides),
		lifecycleNotificationFor: (subscription, event, overrides) => lifecycleNotificationFor(subscription, event, overrides),
		validationTokenFor,
		jwks,
		deliver: (url, body, o) => deliverer.deliver(url, body, o),
		sendBatch: (items, o = {}) =>
			sendBatch(items as NotificationItem[], o, {
				findSubscription: (id) => store.find(id),
				validationTokenFor: (appId, tenantId) => validationTokenFor(appId, tenantId),
				deliverer,
			}),
		deliveries: deliverer.deliveries,

		close: async () => {
			await Promise.all(listeners.map((l) => l.close()));
		},
	};
}
