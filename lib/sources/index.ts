import type { CallSource } from '../subscriptions/callSources';
import { callEventsSource } from './callEvents/callEventsSource';
import { callRecordsSource } from './callRecords/callRecordsSource';
import type { DeliverySource } from './deliverySource';
import { meetingCallEventsSource } from './meetingCallEvents/meetingCallEventsSource';

const sources: Record<CallSource, DeliverySource> = {
	callEvents: callEventsSource,
	callRecords: callRecordsSource,
	meetingCallEvents: meetingCallEventsSource,
};

export function deliverySourceFor(source: CallSource): DeliverySource {
	return sources[source];
}
