import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * test/fixtures/graph-sdk-rich-notification.json: a real Graph payload and the PFX that opens it. Both are
 * Microsoft's published test vector (MIT), not a secret: the PFX exists only to open this sample.
 */
export interface GraphSdkFixture {
	pfxBase64: string;
	pfxPassword: string;
	encryptedContent: Record<string, string>;
	expected: {
		id: string;
		etag: string;
		'body.content': string;
		'body.contentType': string;
		certificateSha1Thumbprint: string;
	};
}

export const graphSdkFixture = JSON.parse(
	readFileSync(path.join(__dirname, '../fixtures/graph-sdk-rich-notification.json'), 'utf8'),
) as GraphSdkFixture;
