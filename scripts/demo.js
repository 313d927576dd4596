#!/usr/bin/env node
'use strict';
/*
 * `npm run demo`: the trigger in a real n8n on this machine, without an Azure tenant.
 *
 *  1. installs Node 24 + n8n 2.41.1 into .cache/n8n-e2e the first time (about 5 minutes, 2.9 GB);
 *  2. builds the package (dist/) and compiles the local Microsoft login + Graph simulator into .cache/demo;
 *  3. starts the simulator and n8n (HTTPS on localhost, its own user folder, the package loaded);
 *  4. creates an owner, both credentials (pointing at the simulator, with a freshly generated
 *     encryption certificate), and one workflow per source from examples/ (Call Events (Preview),
 *     Call Records, Meeting Call Events (Beta)), and activates them; the app has each source's permission
 *     and the meetings' application access policy;
 *  5. plays calls for each source (call events started and ended; call records and their notifications;
 *     meeting calls started, joined, left and ended), so executions of each appear in the editor, and
 *     prints how many executions each workflow has: it stops with exit code 1 when a workflow has none;
 *  6. prints the editor URLs and login, and keeps running until Ctrl-C (Enter plays the calls again).
 *
 * Options: --port <n> (default 5678, or a free one), --no-build (use the existing dist/), --keep (keep the
 * n8n folder after Ctrl-C), --once (stop after the first round: exit code 0 when every workflow got its
 * executions, 1 otherwise; for a check without a person).
 */
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const { ensure } = require('./ensure-n8n');

const repoRoot = path.resolve(__dirname, '..');
const demoDir = path.join(repoRoot, '.cache', 'demo');
const buildDir = path.join(demoDir, 'build');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : undefined;
};

const TENANT = '0b8d6a3e-1c2f-4d5e-8f90-a1b2c3d4e5f6';
const CLIENT_ID = '22222222-aaaa-4bbb-8ccc-000000000001';
/** What each source needs: CallEvents.Read.All (preview), CallRecords.Read.All, OnlineMeetings.Read.All; User.Read.All to look users up. */
const APP_PERMISSIONS = ['CallEvents.Read.All', 'CallRecords.Read.All', 'OnlineMeetings.Read.All', 'User.Read.All'];
const USERS = [
	{ id: 'aaaaaaaa-0000-4000-8000-000000000001', userPrincipalName: 'adele@contoso.test', displayName: 'Adele Vance' },
	{ id: 'bbbbbbbb-0000-4000-8000-000000000002', userPrincipalName: 'bianca@contoso.test', displayName: 'Bianca Pisani' },
	{ id: 'cccccccc-0000-4000-8000-000000000003', userPrincipalName: 'cyril@contoso.test', displayName: 'Cyril Durand' },
	{ id: 'dddddddd-0000-4000-8000-000000000004', userPrincipalName: 'diego@contoso.test', displayName: 'Diego Siciliani' },
];

const TRIGGER_TYPE = 'n8n-nodes-teams-calls.microsoftTeamsCallTrigger';
const [ADELE, BIANCA, CYRIL, DIEGO] = USERS;
/** The meetings of the Meeting Call Events workflow (examples/teams-meeting-call-events-demo.workflow.json), by a part of their join URL. */
const MEETINGS = [
	{ name: 'Weekly standup', marker: 'V2Vla2x5IHN0YW5kdXA', organizer: ADELE },
	{ name: 'Design review', marker: 'RGVzaWduIHJldmlldw', organizer: BIANCA },
];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ago = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Sends one batch and says how n8n answered; resolves to 1 when the answer was 2xx (an execution follows). */
async function deliver(sim, items, what) {
	const [result] = await sim.sendBatch(items);
	const attempt = result.attempts[result.attempts.length - 1];
	say(`Graph -> n8n: ${what}  HTTP ${result.status} in ${Math.round(attempt.responseTimeMs)} ms`);
	return result.status >= 200 && result.status < 300 ? 1 : 0;
}

/** Call Events (Preview): starts and ends of calls of four users, one subscription per user. */
async function playCallEvents(sim, workflow) {
	const byUser = (upn) => {
		const user = USERS.find((u) => u.userPrincipalName === upn);
		return sim.subscriptions().find((s) => s.notificationUrl === workflow.notifyUrl && s.resource.includes(user.id));
	};
	const script = [
		['adele@contoso.test', 'started', 'incoming'],
		['bianca@contoso.test', 'started', 'outgoing'],
		['adele@contoso.test', 'ended', 'incoming'],
		['cyril@contoso.test', 'started', 'incoming'],
		['diego@contoso.test', 'started', 'outgoing'],
		['bianca@contoso.test', 'ended', 'outgoing'],
		['cyril@contoso.test', 'ended', 'incoming'],
		['diego@contoso.test', 'ended', 'outgoing'],
	];
	const callIds = new Map();
	let answered = 0;
	for (const [upn, kind, direction] of script) {
		const sub = byUser(upn);
		if (!sub) {
			say(`no live subscription for ${upn}; skipped`);
			continue;
		}
		const callId = callIds.get(upn) ?? crypto.randomUUID();
		callIds.set(upn, kind === 'started' ? callId : undefined);
		const event = sim.buildCallEvent(sub, { kind, direction, callId });
		answered += await deliver(sim, [sim.notificationFor(sub, event)], `${upn} call ${kind} (${direction})`);
		await sleep(1500);
	}
	return answered;
}

/**
 * Call Records: two calls end, Graph has their records and sends a basic notification (the record's ID) for
 * each; the trigger reads each record from Graph. The second is not readable for its first 2 s, as Graph's
 * new records sometimes are: the trigger asks again.
 */
async function playCallRecords(sim, workflow) {
	const [sub] = sim.subscriptions().filter((s) => s.notificationUrl === workflow.notifyUrl);
	if (!sub) {
		say('no live call-records subscription; skipped');
		return 0;
	}
	const calls = [
		{ what: 'Adele and Bianca, a 7-minute peer-to-peer call', record: { type: 'peerToPeer', modalities: ['audio', 'video'], organizer: ADELE, participants: [ADELE, BIANCA], startDateTime: ago(9), endDateTime: ago(2) } },
		{
			what: 'Cyril, Diego and Adele, a 22-minute group call (record readable after 2 s)',
			record: { type: 'groupCall', modalities: ['audio', 'screenSharing'], organizer: CYRIL, participants: [CYRIL, DIEGO, ADELE], startDateTime: ago(23), endDateTime: ago(1), notReadableForMs: 2000 },
		},
	];
	let answered = 0;
	for (const { what, record } of calls) {
		const stored = sim.addCallRecord(record);
		answered += await deliver(sim, [sim.callRecordNotificationFor(sub, stored.id)], `call record ${stored.id.slice(0, 8)}… (${what})`);
		await sleep(1500);
	}
	return answered;
}

/**
 * Meeting Call Events: the standup's call starts, people join and leave, it ends (the current payload
 * spelling); the design review's call in the spelling of an earlier revision of Graph's documentation.
 */
async function playMeetingCallEvents(sim, workflow) {
	const subscriptionOf = (meeting) => sim.subscriptions().find((s) => s.notificationUrl === workflow.notifyUrl && s.resource.includes(meeting.marker));
	const person = (user) => ({ id: user.id, displayName: user.displayName });
	const [standup, review] = MEETINGS;
	const script = [
		[standup, { kind: 'callStarted' }, 'call started'],
		[standup, { kind: 'rosterUpdated', joined: [person(ADELE), person(BIANCA)] }, 'Adele and Bianca joined'],
		[standup, { kind: 'rosterUpdated', joined: [person(CYRIL)] }, 'Cyril joined'],
		[review, { kind: 'callStarted', spelling: 'earlier' }, 'call started (earlier spelling)'],
		[standup, { kind: 'rosterUpdated', left: [person(BIANCA)] }, 'Bianca left'],
		[review, { kind: 'rosterUpdated', spelling: 'earlier', joined: [person(BIANCA), person(DIEGO)] }, 'Bianca and Diego joined (earlier spelling)'],
		[standup, { kind: 'callEnded' }, 'call ended'],
		[review, { kind: 'callEnded', spelling: 'earlier' }, 'call ended (earlier spelling)'],
	];
	let answered = 0;
	for (const [meeting, options, what] of script) {
		const sub = subscriptionOf(meeting);
		if (!sub) {
			say(`no live subscription for the meeting "${meeting.name}"; skipped`);
			continue;
		}
		const event = sim.buildMeetingCallEvent(options, TENANT);
		answered += await deliver(sim, [sim.meetingNotificationFor(sub, event)], `meeting "${meeting.name}": ${what}`);
		await sleep(1000);
	}
	return answered;
}

/** One workflow per source (examples/*.workflow.json), each with the subscriptions it should get and its calls. */
const SOURCES = [
	{ label: 'Call Events (Preview)', file: 'teams-calls-demo.workflow.json', needsCertificate: true, subscriptions: USERS.length, perSubscription: 'one per user', play: playCallEvents },
	{ label: 'Call Records', file: 'teams-call-records-demo.workflow.json', needsCertificate: false, subscriptions: 1, perSubscription: 'one for the four users', play: playCallRecords },
	{ label: 'Meeting Call Events (Beta)', file: 'teams-meeting-call-events-demo.workflow.json', needsCertificate: true, subscriptions: MEETINGS.length, perSubscription: 'one per meeting', play: playMeetingCallEvents },
];

function say(message) {
	process.stdout.write(`[demo] ${message}\n`);
}

function step(label, fn) {
	const started = Date.now();
	say(`${label} ...`);
	const result = fn();
	const finish = () => say(`${label}: done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
	if (result && typeof result.then === 'function') return result.then((v) => (finish(), v));
	finish();
	return result;
}

function runOrDie(label, command, commandArgs, quiet = false) {
	const r = spawnSync(command, commandArgs, { cwd: repoRoot, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
	if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status})`);
}

function tscBin() {
	const bin = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
	if (!fs.existsSync(bin)) throw new Error('TypeScript is missing: run `npm install` first');
	return bin;
}

/** The simulator and the e2e process/API helpers are TypeScript under test/: compile them once per change. */
function compileSupport() {
	const sources = [
		'test/simulator/index.ts',
		'test/e2e/n8nProcess.ts',
		'test/e2e/n8nApi.ts',
	];
	const inputs = [
		...fs.readdirSync(path.join(repoRoot, 'test', 'simulator')).map((f) => path.join('test', 'simulator', f)),
		...sources,
		'test/support/test-ca.js',
		'test/e2e/n8nSupervisor.js',
	];
	const hash = crypto.createHash('sha256');
	for (const file of inputs.sort()) hash.update(file).update(fs.readFileSync(path.join(repoRoot, file)));
	const stamp = hash.digest('hex');
	const stampFile = path.join(buildDir, '.stamp');
	if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return;
	fs.rmSync(buildDir, { recursive: true, force: true });
	runOrDie('compiling the simulator', process.execPath, [
		tscBin(),
		...sources,
		'--outDir', buildDir,
		'--rootDir', 'test',
		'--module', 'commonjs',
		'--moduleResolution', 'node',
		'--target', 'es2022',
		'--esModuleInterop',
		'--skipLibCheck',
		'--strict',
		'--resolveJsonModule',
		'--types', 'node',
	]);
	fs.mkdirSync(path.join(buildDir, 'support'), { recursive: true });
	fs.copyFileSync(path.join(repoRoot, 'test', 'support', 'test-ca.js'), path.join(buildDir, 'support', 'test-ca.js'));
	fs.copyFileSync(path.join(repoRoot, 'test', 'e2e', 'n8nSupervisor.js'), path.join(buildDir, 'e2e', 'n8nSupervisor.js'));
	fs.writeFileSync(stampFile, stamp);
}

/**
 * `npm run build` is `rimraf dist && tsc -p tsconfig.json` with an incremental build-info file outside
 * dist/ (.cache/tsconfig.tsbuildinfo): run a second time with unchanged sources, tsc believes dist/ is
 * up to date and emits nothing. Removing the build info makes the build complete every time.
 */
function forgetIncrementalBuildInfo() {
	try {
		const tsconfig = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8'));
		const info = tsconfig.compilerOptions && tsconfig.compilerOptions.tsBuildInfoFile;
		if (info) fs.rmSync(path.resolve(repoRoot, info), { force: true });
	} catch {
		/* tsconfig with comments or no build info: nothing to do */
	}
}

async function main() {
	let n8n;
	let sim;
	let runDir;
	let stopping = false;
	const stop = async (code) => {
		if (stopping) return;
		stopping = true;
		say('stopping n8n and the simulator ...');
		try {
			if (n8n) await n8n.stop();
		} catch (e) {
			say(`could not stop n8n cleanly: ${e.message}`);
		}
		try {
			if (sim) await sim.close();
		} catch {
			/* ignore */
		}
		// After a failure the folder stays, with n8n's log, so that the error can be read.
		if (runDir && !flag('--keep') && code === 0) fs.rmSync(runDir, { recursive: true, force: true });
		else if (runDir) say(`kept ${runDir}`);
		say('stopped.');
		process.exit(code);
	};
	process.on('SIGINT', () => void stop(0));
	process.on('SIGTERM', () => void stop(0));

	try {
		say('n8n-nodes-teams-calls demo: a real n8n with the Teams call trigger, against a local Microsoft Graph simulator');
		const paths = await step('n8n 2.41.1 with Node 24 (first time: about 5 minutes, 2.9 GB)', () => ensure());
		if (!flag('--no-build')) forgetIncrementalBuildInfo();
		if (!flag('--no-build')) step('building the package (npm run build)', () => runOrDie('npm run build', process.execPath, [process.env.npm_execpath || path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'), 'run', 'build']));
		const dist = path.join(repoRoot, 'dist');
		if (!fs.existsSync(path.join(dist, 'nodes', 'MicrosoftTeamsCallTrigger', 'MicrosoftTeamsCallTrigger.node.js'))) {
			throw new Error('dist/ is missing: run `npm run build`');
		}
		step('compiling the Graph simulator into .cache/demo', compileSupport);

		const { startGraphSimulator } = require(path.join(buildDir, 'simulator', 'index.js'));
		const { ensureTestCa, issueServerCertificate } = require(path.join(buildDir, 'simulator', 'testCa.js'));
		const { N8nProcess, freePort } = require(path.join(buildDir, 'e2e', 'n8nProcess.js'));
		const { N8nApi, OWNER } = require(path.join(buildDir, 'e2e', 'n8nApi.js'));

		const caDir = path.join(demoDir, 'ca');
		const ca = ensureTestCa(caDir);
		sim = await step('starting the Microsoft login + Graph simulator', () => startGraphSimulator({ caDir }));
		const clientSecret = `demo~${crypto.randomBytes(18).toString('base64url')}`;
		sim.registerTenant(TENANT, ['contoso.test']);
		sim.registerApp({ tenantId: TENANT, clientId: CLIENT_ID, secrets: [{ value: clientSecret }], permissions: APP_PERMISSIONS });
		for (const user of USERS) sim.addUser(user);
		// App-only access to meetings needs an application access policy (Grant-CsApplicationAccessPolicy) besides the permission.
		sim.grantMeetingAccessPolicy(CLIENT_ID);
		const meetingUrls = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', 'teams-meeting-call-events-demo.workflow.json'), 'utf8'))
			.nodes.find((n) => n.type === TRIGGER_TYPE).parameters.meetingJoinUrls;
		for (const meeting of MEETINGS) sim.addMeeting(meetingUrls.find((url) => url.includes(meeting.marker)), meeting.organizer.id);
		say(`simulator: login ${sim.loginBaseUrl}, Graph ${sim.graphBaseUrl}`);

		runDir = path.join(demoDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
		const tlsDir = path.join(runDir, 'tls');
		const certDir = path.join(runDir, 'encryption-certificate');
		fs.mkdirSync(tlsDir, { recursive: true });
		const serverCert = issueServerCertificate(ca, ['localhost', '127.0.0.1']);
		fs.writeFileSync(path.join(tlsDir, 'server-cert.pem'), serverCert.certPem);
		fs.writeFileSync(path.join(tlsDir, 'server-key.pem'), serverCert.keyPem, { mode: 0o600 });
		step('generating a fresh notification encryption certificate (npx n8n-nodes-teams-calls generate-certificate)', () =>
			runOrDie('generate-certificate', process.execPath, [path.join(repoRoot, 'bin', 'n8n-nodes-teams-calls.js'), 'generate-certificate', '--out', certDir, '--subject', 'CN=n8n Teams calls demo'], true),
		);

		// Installed as a community package (a link in <user folder>/.n8n/nodes/node_modules, what `npm install` in
		// ~/.n8n/nodes makes): only then does n8n's editor test the credentials, as it will for a person.
		const userFolder = path.join(runDir, 'n8n-home');
		const nodesDir = path.join(userFolder, '.n8n', 'nodes', 'node_modules');
		fs.mkdirSync(nodesDir, { recursive: true });
		fs.symlinkSync(repoRoot, path.join(nodesDir, 'n8n-nodes-teams-calls'), 'dir');
		const noExtensions = path.join(runDir, 'no-custom-extensions');
		fs.mkdirSync(noExtensions, { recursive: true });

		const wanted = Number(option('--port') || 5678);
		const port = (await portIsFree(wanted)) ? wanted : await freePort();
		n8n = new N8nProcess({
			paths,
			userFolder,
			port,
			brokerPort: await freePort(),
			tls: { certPath: path.join(tlsDir, 'server-cert.pem'), keyPath: path.join(tlsDir, 'server-key.pem'), caPath: ca.caCertPath, caPem: ca.caCertPem },
			customExtensions: noExtensions,
			encryptionKey: crypto.randomBytes(24).toString('hex'),
			extraEnv: { N8N_LOG_LEVEL: 'info' },
		});
		await step(`starting n8n on https://localhost:${port} (log: ${path.relative(repoRoot, n8n.logPath(1))})`, () => n8n.start());

		const api = new N8nApi(n8n.baseUrl, ca.caCertPem);
		await step('creating the owner and an API key', () => api.setUp());
		const app = await api.createCredential('Microsoft Graph app', 'microsoftGraphAppApi', {
			cloud: 'custom',
			customLoginHost: sim.loginBaseUrl,
			customGraphBaseUrl: sim.graphBaseUrl,
			tenantId: TENANT,
			clientId: CLIENT_ID,
			authentication: 'clientSecret',
			clientSecret,
		});
		const certificate = await api.createCredential('Graph notification certificate', 'microsoftGraphNotificationCertificateApi', {
			certificateFormat: 'pem',
			certificatePem: fs.readFileSync(path.join(certDir, 'certificate.pem'), 'utf8'),
			privateKeyPem: fs.readFileSync(path.join(certDir, 'private-key.pem'), 'utf8'),
			certificateId: `demo-${crypto.randomBytes(4).toString('hex')}`,
		});
		say('credentials created: "Microsoft Graph app" (Custom cloud -> simulator) and "Graph notification certificate"');

		const subscriptionsOf = (workflow) => sim.subscriptions().filter((s) => s.notificationUrl === workflow.notifyUrl);
		const credentialsOf = (source) =>
			source.needsCertificate ? { microsoftGraphAppApi: app, microsoftGraphNotificationCertificateApi: certificate } : { microsoftGraphAppApi: app };
		const workflows = [];
		for (const source of SOURCES) {
			const workflowJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', source.file), 'utf8'));
			const trigger = workflowJson.nodes.find((n) => n.type === TRIGGER_TYPE);
			trigger.credentials = credentialsOf(source);
			const { id } = await api.createWorkflow({
				name: workflowJson.name,
				nodes: workflowJson.nodes,
				connections: workflowJson.connections,
				settings: workflowJson.settings,
			});
			const workflow = { source, id, name: workflowJson.name, notifyUrl: `${n8n.baseUrl}/webhook/${trigger.webhookId}/notify`, shown: 0, expected: 0 };
			await step(`activating the workflow "${workflow.name}"`, async () => {
				await api.activate(id);
				const deadline = Date.now() + 60_000;
				for (;;) {
					const live = subscriptionsOf(workflow).length;
					if (live === source.subscriptions) break;
					if (Date.now() > deadline) throw new Error(`only ${live} of ${source.subscriptions} subscriptions were created for "${workflow.name}"; see ${n8n.logPath(1)}`);
					await sleep(250);
				}
			});
			say(`Graph subscriptions created and validated for ${source.label}: ${source.subscriptions} (${source.perSubscription})`);
			workflows.push(workflow);
		}

		const playAll = async () => {
			for (const workflow of workflows) {
				say(`playing ${workflow.source.label} ...`);
				workflow.expected += await workflow.source.play(sim, workflow);
			}
		};
		/** Waits (up to 30 s) until every workflow has an execution for each delivery n8n answered 2xx, then prints the new ones. */
		const showExecutions = async () => {
			const deadline = Date.now() + 30_000;
			let counts;
			for (;;) {
				counts = await Promise.all(workflows.map((workflow) => api.executions(workflow.id)));
				const settled = counts.every((executions, i) => executions.length >= workflows[i].expected && executions.every((e) => e.status !== 'running' && e.status !== 'new'));
				if (settled || Date.now() > deadline) break;
				await sleep(500);
			}
			for (const [i, workflow] of workflows.entries()) {
				for (const execution of counts[i].slice(workflow.shown)) {
					const runs = (execution.data && execution.data.resultData && execution.data.resultData.runData) || {};
					const out = ((runs['Describe the call'] || [])[0] || {}).data;
					const items = (out && out.main && out.main[0]) || [];
					for (const item of items) say(`${workflow.source.label}, execution ${execution.id} (${execution.status}): ${item.json.summary}`);
				}
				workflow.shown = counts[i].length;
			}
			say('executions per workflow:');
			for (const [i, workflow] of workflows.entries()) {
				const executions = counts[i];
				say(`  ${workflow.name}: ${executions.length} (${executions.filter((e) => e.status === 'success').length} successful; ${workflow.expected} deliveries answered 2xx)`);
			}
			return workflows.filter((_, i) => counts[i].length === 0);
		};
		say('playing calls for each source ...');
		await playAll();
		const withoutExecutions = await showExecutions();
		if (withoutExecutions.length > 0) {
			throw new Error(`no execution in ${withoutExecutions.map((w) => `"${w.name}"`).join(', ')}; see ${n8n.logPath(1)}`);
		}
		if (flag('--once')) {
			say('every workflow got its executions (--once: stopping).');
			await stop(0);
			return;
		}

		const line = '-'.repeat(78);
		process.stdout.write(
			`\n${line}\n` +
				workflows.map((w) => `  ${w.name}:\n    ${n8n.baseUrl}/workflow/${w.id}/executions\n`).join('') +
				`  login:       ${OWNER.email} / ${OWNER.password}\n` +
				`  The certificate is issued by a local test CA (${path.relative(repoRoot, ca.caCertPath)}):\n` +
				`  your browser will warn once; accept it for localhost, or import that CA.\n` +
				`  Press Enter to play the calls again, Ctrl-C to stop everything.\n` +
				`${line}\n\n`,
		);
		if (process.stdin.isTTY) {
			const rl = readline.createInterface({ input: process.stdin });
			let playing = false;
			rl.on('line', () => {
				if (playing) return;
				playing = true;
				playAll()
					.then(showExecutions)
					.catch((e) => say(`could not play calls: ${e.message}`))
					.finally(() => (playing = false));
			});
			rl.on('SIGINT', () => void stop(0));
		}
		// Keep running until Ctrl-C; warn if n8n dies underneath.
		for (;;) {
			await sleep(2000);
			if (!n8n.isRunning && !stopping) {
				say(`n8n stopped unexpectedly; see ${n8n.logPath(1)}`);
				await stop(1);
			}
		}
	} catch (error) {
		say(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
		await stop(1);
	}
}

function portIsFree(port) {
	return new Promise((resolve) => {
		const server = require('node:net').createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

main();
