'use strict';
/**
 * The "Graph" side of the acknowledgement benchmark, in its own process so that its clock keeps running
 * while the server process decrypts (as Graph's does): POSTs a prepared JSON body over a fresh HTTPS
 * connection and reports, in absolute milliseconds (performance.timeOrigin + now, comparable across
 * processes), when it started sending, when the response headers (the 2xx) arrived, and when the response
 * ended. Trusts the test CA through NODE_EXTRA_CA_CERTS, like the test suite. Commands come over IPC.
 */
const https = require('https');
const fs = require('fs');

const wallClock = () => performance.timeOrigin + performance.now();

function post(url, body) {
	return new Promise((resolve) => {
		const target = new URL(url);
		const started = wallClock();
		const request = https.request(
			{
				host: target.hostname,
				port: target.port,
				path: target.pathname + target.search,
				method: 'POST',
				agent: false,
				servername: 'localhost',
				headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length },
			},
			(response) => {
				const headersAt = wallClock();
				response.resume();
				response.on('end', () => resolve({ status: response.statusCode, started, headersAt, endedAt: wallClock() }));
			},
		);
		request.setTimeout(30_000, () => request.destroy(new Error('timeout after 30 s')));
		request.on('error', (error) => resolve({ error: error.message, started, headersAt: NaN, endedAt: wallClock() }));
		request.end(body);
	});
}

process.on('message', async (message) => {
	if (message.type === 'post') {
		const body = fs.readFileSync(message.bodyFile);
		const result = await post(message.url, body);
		process.send({ id: message.id, ...result });
	} else if (message.type === 'exit') {
		process.exit(0);
	}
});
process.send({ type: 'ready' });
