import { TokenRequestError } from '../auth/tokenRequestError';
import { GraphApiError } from '../graph/graphApiError';

export const CALL_EVENTS_PERMISSION = 'CallEvents.Read.All';

/**
 * What went wrong with a user's subscription, in words that say what to change. Graph's own message is
 * kept at the end: its codes are stable, its wording is the detail support will ask for.
 */
export function explainSubscriptionError(error: unknown, user: string, notificationUrl: string): string {
	if (error instanceof TokenRequestError) return error.message;
	if (!(error instanceof GraphApiError)) return `${user}: ${(error as Error).message}`;
	const ids = error.requestIds;
	const graphSaid = `Graph said: ${error.code}: ${error.graphMessage}${ids ? ` (${ids})` : ''}`;
	if (error.status === 403) {
		return `${user}: the app is not allowed to subscribe to this user's calls. In Entra ID > App registrations > API permissions, add the Microsoft Graph application permission ${CALL_EVENTS_PERMISSION} (CallConversation.Read.All in earlier previews), then Grant admin consent. A tenant quota can also cause this. ${graphSaid}`;
	}
	if (error.status === 400 && /validation/i.test(error.graphMessage)) {
		return `${user}: Microsoft Graph could not validate the webhook URL ${notificationUrl}. It must be public HTTPS that Graph can reach from the internet and that answers within 10 seconds: set N8N_WEBHOOK_URL (or WEBHOOK_URL) to n8n's public address and check the reverse proxy or tunnel. ${graphSaid}`;
	}
	if (error.status === 404 || (error.status === 400 && /resource/i.test(error.graphMessage))) {
		return `${user}: Microsoft Graph does not offer this resource here. Check the user, the Graph API version and the resource path; call events are a preview API and may not be enabled for the tenant. ${graphSaid}`;
	}
	if (error.status === 429) {
		return `${user}: Microsoft Graph is throttling requests${error.retryAfterSeconds !== undefined ? ` (retry after ${error.retryAfterSeconds} s)` : ''}. It will be retried. ${graphSaid}`;
	}
	if (error.status === 0) return `${user}: ${error.message}. Check the network between n8n and Microsoft Graph`;
	return `${user}: ${error.message}`;
}
