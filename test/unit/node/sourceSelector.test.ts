import { NodeHelpers, type INodeProperties } from 'n8n-workflow';

import { MicrosoftTeamsCallTrigger } from '../../../nodes/MicrosoftTeamsCallTrigger/MicrosoftTeamsCallTrigger.node';

const description = new MicrosoftTeamsCallTrigger().description;
const shownFor = (property: INodeProperties) => property.displayOptions?.show?.source;

describe('the Source selector', () => {
	it('comes first and defaults to the preview source, which saved workflows have without the parameter', () => {
		expect(description.properties[0]).toMatchObject({ name: 'source', type: 'options', default: 'callEvents' });
		expect((description.properties[0].options as Array<{ value: string }>).map((option) => option.value)).toEqual(['callEvents', 'callRecords', 'meetingCallEvents']);
	});

	it('shows each source only its own fields', () => {
		const rest = description.properties.slice(1);
		for (const property of rest) expect(shownFor(property)).toHaveLength(1);
		const names = (source: string) => rest.filter((property) => shownFor(property)?.[0] === source).map((property) => property.name);
		expect(names('callEvents')).toEqual(expect.arrayContaining(['users', 'events', 'directions', 'options']));
		expect(names('callRecords')).toEqual(['callRecordsNotice', 'recordUsers', 'recordFilter', 'recordEvents', 'recordOptions']);
		expect(names('meetingCallEvents')).toEqual(['meetingCallEventsNotice', 'meetingJoinUrls', 'meetingEvents', 'meetingOptions']);
		expect(rest.find((property) => property.name === 'recordUsers')?.required).toBeFalsy();
	});

	it('shows the call-records Filter only once users are listed, defaulting to the filter in Graph that saved workflows have', () => {
		const filter = description.properties.find((property) => property.name === 'recordFilter')!;
		expect(filter).toMatchObject({ type: 'options', default: 'inGraph' });
		expect((filter.options as Array<{ value: string }>).map((option) => option.value)).toEqual(['inGraph', 'afterReading']);
		const shown = (recordUsers: string[]) =>
			NodeHelpers.displayParameter({ source: 'callRecords', recordUsers }, filter, null, null);
		expect([shown([]), shown(['adele@contoso.com'])]).toEqual([false, true]);
	});

	it('asks for the notification certificate only for the sources with encrypted notifications', () => {
		const certificate = description.credentials?.find((credential) => credential.name === 'microsoftGraphNotificationCertificateApi');
		expect(certificate?.displayOptions).toEqual({ show: { source: ['callEvents', 'meetingCallEvents'] } });
		const app = description.credentials?.find((credential) => credential.name === 'microsoftGraphAppApi');
		expect(app?.displayOptions).toBeUndefined();
		expect(app?.required).toBe(true);
	});
});
