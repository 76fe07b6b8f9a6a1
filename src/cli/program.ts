import { Command, CommanderError } from 'commander';
import { exitCodeFor, isHookrelayError } from '../errors.js';
import { registerBackup } from './commands/backup.js';
import { registerCheckConfig } from './commands/check-config.js';
import { registerDeliveries } from './commands/deliveries.js';
import { registerDlq } from './commands/dlq.js';
import { registerEvents } from './commands/events.js';
import { registerQuarantine } from './commands/quarantine.js';
import { registerRedeliver } from './commands/redeliver.js';
import { registerReplay } from './commands/replay.js';
import { registerRetryNow } from './commands/retry-now.js';
import { registerRuns } from './commands/runs.js';
import { registerSendTest } from './commands/send-test.js';
import { registerServe } from './commands/serve.js';
import { registerStats } from './commands/stats.js';
import { provideCliContext } from './context.js';
import { hookrelayVersion } from '../version.js';

/**
 * Every command and option is registered here at once and cheaply (commander only), so help,
 * usage errors and their exit code 2 need nothing else; each command's action imports what it
 * needs (its operation in src/operator/, storage, HTTP clients, the relay itself) only when it
 * runs. The preAction hook gives the running command its config and store (context.ts).
 */
export function buildProgram(): Command {
  const program = new Command('hookrelay')
    .description('Durable webhook relay: verify, dedupe, commit, then fan out with retries.')
    .showHelpAfterError(false)
    .version(hookrelayVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  provideCliContext(program);
  registerServe(program);
  registerCheckConfig(program);
  registerStats(program);
  registerDlq(program);
  registerReplay(program);
  registerRedeliver(program);
  registerRetryNow(program);
  registerDeliveries(program);
  registerEvents(program);
  registerQuarantine(program);
  registerBackup(program);
  registerSendTest(program);
  registerRuns(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed operation, 2 bad usage or config). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('--verbose');
  if (argv.length <= 2) {
    // No command is bad usage (exit 2), not a request for help.
    process.stderr.write(program.helpInformation());
    return 2;
  }
  quietOnClosedPipe();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      // commander already printed its one-line message; usage errors are exit 2 per the contract.
      return 2;
    }
    printError(error, verbose);
    return exitCodeFor(error);
  }
}

export function printError(error: unknown, verbose: boolean): void {
  const message = isHookrelayError(error) ? error.message : error instanceof Error ? error.message : String(error);
  process.stderr.write(`hookrelay: ${message.split('\n')[0]}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
}

/**
 * `hookrelay dlq list --json | head -2`: once the reader has gone, writing on is pointless and
 * the EPIPE is no error of ours. Exit quietly, as every CLI piped into `head` does.
 */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}
