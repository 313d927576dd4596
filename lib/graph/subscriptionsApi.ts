import type { IDataObject } from 'n8n-workflow';

import { GraphApiError } from './graphApiError';
import type { GraphClient } from './graphClient';

/** The fields of a Graph subscription that this package reads. */
export interface GraphSubscription {
	id: string;
	resource: string;
	changeType: string;
	notificationUrl: string;
	lifecycleNotificationUrl?: string | null;
	expirationDateTime: string;
	applicationId?: string;
	encryptionCertificateId?: string | null;
}

interface NewSubscriptionBase {
	notificationUrl: string;
	lifecycleNotificationUrl: string;
	resource: string;
	expirationDateTime: string;
	clientState: string;
	latestSupportedTlsVersion: 'v1_2';
}

/** Rich (call events): encrypted resource data. Basic (call records): the resource's ID only. */
export type NewSubscription =
	| (NewSubscriptionBase & {
			changeType: 'updated';
			includeResourceData: true;
			encryptionCertificate: string;
			encryptionCertificateId: string;
	  })
	| (NewSubscriptionBase & { changeType: string; includeResourceData?: undefined });

const MAX_PAGES = 100;

function isNotFound(error: unknown): boolean {
	return error instanceof GraphApiError && error.status === 404;
}

export function createSubscription(graph: GraphClient, body: NewSubscription): Promise<GraphSubscription> {
	return graph.request<GraphSubscription>('POST', 'subscriptions', body as unknown as IDataObject);
}

/** undefined when Graph no longer has it (expired or deleted). */
export async function getSubscription(graph: GraphClient, id: string): Promise<GraphSubscription | undefined> {
	try {
		return await graph.request<GraphSubscription>('GET', `subscriptions/${encodeURIComponent(id)}`);
	} catch (error) {
		if (isNotFound(error)) return undefined;
		throw error;
	}
}

/** Every subscription this app owns, across pages. */
export async function listSubscriptions(graph: GraphClient): Promise<GraphSubscription[]> {
	const all: GraphSubscription[] = [];
	let next: string | undefined = 'subscriptions';
	for (let page = 0; next && page < MAX_PAGES; page++) {
		const response: { value?: GraphSubscription[]; '@odata.nextLink'?: string } = await graph.request(
			'GET',
			next,
		);
		all.push(...(response.value ?? []));
		next = response['@odata.nextLink'];
	}
	return all;
}

export interface EncryptionCertificateUpdate {
	encryptionCertificate: string;
	encryptionCertificateId: string;
}

/**
 * PATCHing the expiry renews and also reauthorizes the subscription; with a certificate it also moves the
 * subscription to it (Graph's key-rotation guidance). undefined when Graph answers 404: such a
 * subscription cannot be renewed and must be created anew.
 */
export async function renewSubscription(
	graph: GraphClient,
	id: string,
	expirationDateTime: string,
	certificate?: EncryptionCertificateUpdate,
): Promise<GraphSubscription | undefined> {
	try {
		return await graph.request<GraphSubscription>('PATCH', `subscriptions/${encodeURIComponent(id)}`, {
			expirationDateTime,
			...certificate,
		});
	} catch (error) {
		if (isNotFound(error)) return undefined;
		throw error;
	}
}

/** true when deleted now, false when it was already gone (404 counts as deleted). */
export async function deleteSubscription(graph: GraphClient, id: string): Promise<boolean> {
	try {
		await graph.request('DELETE', `subscriptions/${encodeURIComponent(id)}`);
		return true;
	} catch (error) {
		if (isNotFound(error)) return false;
		throw error;
	}
}
