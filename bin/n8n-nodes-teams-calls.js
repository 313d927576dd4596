#!/usr/bin/env node
'use strict';

const { runCli } = require('../dist/lib/cli/main.js');

process.exitCode = runCli(process.argv.slice(2), {
	out: (line) => process.stdout.write(line + '\n'),
	err: (line) => process.stderr.write(line + '\n'),
});
