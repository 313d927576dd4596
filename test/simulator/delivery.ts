import { post } from './httpsClient';
import { sleep } from './httpIo';
import { isLifecycleItem, type NotificationItem } from './notifications';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * Graph's delivery of notification batches: POST JSON to the webhook, count a 2xx as delivered (on the
 * first attempt only a 2xx within Graph's 3 s ack window: a later one is treated as no answer), retry
 * other answers, late answers and network errors with exponential back-off (bounded, unlike Graph's 4
 * hours), and keep every attempt with its response time.
 */
export interface DeliveryAttempt {
	url: string;
	attempt: number;
	/** Undefined when the request failed without an HTTP answer. */
	status?: number;
	error?: string;
	responseTimeMs: number;
	/** Graph's ack window for a first attempt. */
	withinAckWindow: boolean;
	bodyText: string;
	requestBody: string;
	time: number;
}

export interface DeliveryResult {
	url: string;
	delivered: boolean;
	attempts: DeliveryAttempt[];
	/** Status of the last attempt. `delivered` is what Graph would count: a 2xx, on the first attempt within 3 s. */
	status?: number;
}

export interface DeliverOptions {
	/** Extra attempts after the first (default 0). */
	retries?: number;
	/** First retry delay; doubles each time (default 200 ms). */
	retryDelayMs?: number;
	/** Abort an attempt after this long (Graph: 10 s for retries). */
	timeoutMs?: number;
	headers?: Record<string, string>;
}

export const ACK_WINDOW_MS = 3000;

export class Deliverer {
	readonly deliveries: DeliveryAttempt[] = [];

	constructor(private readonly caCertPem: string) {}

	async deliver(url: string, body: unknown, options: DeliverOptions = {}): Promise<DeliveryResult> {
		const retries = options.retries ?? 0;
		const delay = options.retryDelayMs ?? 200;
		const requestBody = typeof body === 'string' ? body : JSON.stringify(body);
		const attempts: DeliveryAttempt[] = [];
		for (let attempt = 1; attempt <= retries + 1; attempt++) {
			if (attempt > 1) await sleep(delay * 2 ** (attempt - 2));
			const record = await this.attempt(url, requestBody, attempt, options);
			attempts.push(record);
			this.deliveries.push(record);
			if (counts(record)) return { url, delivered: true, attempts, status: record.status };
		}
		return { url, delivered: false, attempts, status: attempts[attempts.length - 1]?.status };
	}

	private async attempt(url: string, requestBody: string, attempt: number, options: DeliverOptions): Promise<DeliveryAttempt> {
		const time = Date.now();
		const started = performance.now();
		try {
			const result = await post(url, {
				body: requestBody,
				headers: { 'Content-Type': 'application/json; charset=utf-8', ...options.headers },
				caCertPem: this.caCertPem,
				timeoutMs: options.timeoutMs ?? 10_000,
			});
			return {
				url,
				attempt,
				status: result.status,
				responseTimeMs: result.elapsedMs,
				withinAckWindow: result.elapsedMs <= ACK_WINDOW_MS,
				bodyText: result.bodyText,
				requestBody,
				time,
			};
		} catch (error) {
			const elapsed = performance.now() - started;
			return {
				url,
				attempt,
				error: error instanceof Error ? error.message : String(error),
				responseTimeMs: elapsed,
				withinAckWindow: false,
				bodyText: '',
				requestBody,
				time,
			};
		}
	}
}

/**
 * Graph: "a 2xx within 3 seconds means the notification counts as delivered"; otherwise it retries, with
 * 10 s allowed for each retried notification (the attempt's own timeout).
 */
function counts(record: DeliveryAttempt): boolean {
	const is2xx = record.status !== undefined && record.status >= 200 && record.status < 300;
	return is2xx && (record.attempt > 1 || record.withinAckWindow);
}

export interface BatchOptions extends DeliverOptions {
	/** Send to this URL instead of the subscription's. */
	url?: string;
	/** Replace the computed validationTokens (e.g. tampered ones); null sends `validationTokens: null`. */
	validationTokens?: string[] | null;
}

export interface BatchDeps {
	findSubscription: (id: string) => SubscriptionLike | undefined;
	validationTokenFor: (appId: string, tenantId: string) => string;
	deliverer: Deliverer;
}

/**
 * Groups items by target URL (notificationUrl, or lifecycleNotificationUrl for lifecycle items), adds one
 * validation token per app+tenant among the rich items, and delivers each batch.
 */
export async function sendBatch(items: NotificationItem[], options: BatchOptions, deps: BatchDeps): Promise<DeliveryResult[]> {
	const groups = new Map<string, { items: NotificationItem[]; apps: Map<string, [string, string]> }>();
	for (const item of items) {
		const subscription = deps.findSubscription(String(item.subscriptionId));
		const url =
			options.url ??
			(subscription && isLifecycleItem(item) ? subscription.lifecycleNotificationUrl ?? subscription.notificationUrl : subscription?.notificationUrl);
		if (!url) throw new Error(`No target URL for notification of subscription ${String(item.subscriptionId)}`);
		const group = groups.get(url) ?? { items: [], apps: new Map<string, [string, string]>() };
		group.items.push(item);
		if (subscription && !isLifecycleItem(item) && item.encryptedContent) {
			group.apps.set(`${subscription.applicationId}|${subscription.tenantId}`, [subscription.applicationId, subscription.tenantId]);
		}
		groups.set(url, group);
	}
	const results: DeliveryResult[] = [];
	for (const [url, group] of groups) {
		const computed = [...group.apps.values()].map(([appId, tenantId]) => deps.validationTokenFor(appId, tenantId));
		const validationTokens = options.validationTokens !== undefined ? options.validationTokens : computed;
		const body: Record<string, unknown> = { value: group.items };
		if (validationTokens === null || validationTokens.length > 0) body.validationTokens = validationTokens;
		results.push(await deps.deliverer.deliver(url, body, options));
	}
	return results;
}
