import { generateCertificateCommand, type CliOutput } from './generateCertificateCommand';

const USAGE = `Usage: n8n-nodes-teams-calls <command>

Commands:
  generate-certificate   Create a certificate for Graph notification encryption (see --help)`;

/** Entry point of the package's `bin`; returns the process exit code. */
export function runCli(argv: string[], io: CliOutput): number {
	const [command, ...rest] = argv;
	if (command === 'generate-certificate') return generateCertificateCommand(rest, io);
	if (command === undefined || command === '--help' || command === 'help') {
		io.out(USAGE);
		return command === undefined ? 2 : 0;
	}
	io.err(`Unknown command "${command}".\n\n${USAGE}`);
	return 2;
}
