import { TokenRequestError } from '../auth/tokenRequestError';
import { GraphApiError } from '../graph/graphApiError';
import { CALL_EVENTS_PERMISSION, CALL_RECORDS_PERMISSION, MEETING_CALL_EVENTS_PERMISSION, type CallSource } from './callSources';

export { CALL_EVENTS_PERMISSION } from './callSources';

/**
 * What went wrong with a user's subscription, in words that say what to change. Graph's own message is
 * kept at the end: its codes are stable, its wording is the detail support will ask for.
 */
export function explainSubscriptionError(error: unknown, user: string, notificationUrl: string, source: CallSource = 'callEvents'): string {
	if (error instanceof TokenRequestError) return error.message;
	if (!(error instanceof GraphApiError)) return `${user}: ${(error as Error).message}`;
	const ids = error.requestIds;
	const graphSaid = `Graph said: ${error.code}: ${error.graphMessage}${ids ? ` (${ids})` : ''}`;
	if (error.status === 403 && source === 'callRecords') {
		if (/maximum number|quota|limit/i.test(error.graphMessage)) {
			return `${user}: Microsoft Graph allows at most 100 call-record subscriptions per organization, for all apps together, and that many exist. Delete some, or watch the whole tenant with one subscription (leave Users empty). ${graphSaid}`;
		}
		return `${user}: the app is not allowed to subscribe to call records. In Entra ID > App registrations > API permissions, add the Microsoft Graph application permission ${CALL_RECORDS_PERMISSION}, then Grant admin consent. ${graphSaid}`;
	}
	if (source === 'meetingCallEvents') {
		const explained = explainMeetingError(error, user, graphSaid);
		if (explained) return explained;
	}
	if (error.status === 403) {
		return `${user}: the app is not allowed to subscribe to this user's calls. In Entra ID > App registrations > API permissions, add the Microsoft Graph application permission ${CALL_EVENTS_PERMISSION} (CallConversation.Read.All in earlier previews), then Grant admin consent. A tenant quota can also cause this, and so can a tenant that does not have this unreleased preview: the Source "Call Records" (released, v1.0) gives the end of every call of the watched users instead. ${graphSaid}`;
	}
	if (error.status === 400 && /validation/i.test(error.graphMessage)) {
		return `${user}: Microsoft Graph could not validate the webhook URL ${notificationUrl}. It must be public HTTPS that Graph can reach from the internet and that answers within 10 seconds: set N8N_WEBHOOK_URL (or WEBHOOK_URL) to n8n's public address and check the reverse proxy or tunnel. ${graphSaid}`;
	}
	if (source === 'callEvents' && (error.status === 404 || (error.status === 400 && /resource/i.test(error.graphMessage)))) {
		return `${user}: Microsoft Graph does not offer this resource here. Check the user, the Graph API version and the resource path; call events are a preview API that Microsoft has not released, and most tenants do not have it: the Source "Call Records" (released, v1.0) gives the end of every call of the watched users instead. ${graphSaid}`;
	}
	if (error.status === 429) {
		return `${user}: Microsoft Graph is throttling requests${error.retryAfterSeconds !== undefined ? ` (retry after ${error.retryAfterSeconds} s)` : ''}. It will be retried. ${graphSaid}`;
	}
	if (error.status === 0) return `${user}: ${error.message}. Check the network between n8n and Microsoft Graph`;
	return `${user}: ${error.message}`;
}

/** Meeting call events: app-only access to meetings needs both a permission and an application access policy. */
function explainMeetingError(error: GraphApiError, user: string, graphSaid: string): string | undefined {
	if (error.status === 403) {
		return `${user}: the app is not allowed to read this meeting's call events. It needs the Microsoft Graph application permission ${MEETING_CALL_EVENTS_PERMISSION} (or OnlineMeetings.ReadWrite.All) with admin consent, and an application access policy, because app-only access to online meetings requires one: in Teams PowerShell run New-CsApplicationAccessPolicy -Identity n8n-meetings -AppIds <the app's client ID>, then Grant-CsApplicationAccessPolicy -PolicyName n8n-meetings -Identity <the organizer> (or -Global); it can take up to 30 minutes to apply. ${graphSaid}`;
	}
	if (error.status === 404) {
		return `${user}: Microsoft Graph knows no online meeting with this join URL in the tenant. Copy the join link from the meeting invitation again (a meeting of another tenant cannot be watched). ${graphSaid}`;
	}
	if (error.status === 400 && /resource|version/i.test(error.graphMessage)) {
		return `${user}: Microsoft Graph refused the meeting call events resource; it is served in beta only. ${graphSaid}`;
	}
	return undefined;
}
