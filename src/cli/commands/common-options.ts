import { Option, type Command } from 'commander';
import { HookrelayError } from '../../errors.js';

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

export function withCommonOptions(command: Command, { json = true }: { json?: boolean } = {}): Command {
  command.option('-c, --config <path>', 'config file (default: $HOOKRELAY_CONFIG or config/hookrelay.yaml)');
  if (json) command.option('--json', 'machine-readable output on stdout');
  command.addOption(new Option('--verbose', 'print stack traces of errors'));
  return command;
}

/**
 * A command that only groups subcommands (`dlq list`, `runs show`): without a known subcommand,
 * whatever follows is answered with one usage line naming them (exit 2).
 */
export function commandGroup(program: Command, name: string, description: string, subcommands: string): Command {
  return program
    .command(name)
    .description(description)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new HookrelayError('HOOKRELAY_USAGE', `${name} needs a subcommand: ${subcommands}`);
    });
}
