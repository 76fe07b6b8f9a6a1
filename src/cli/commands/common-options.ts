import { Option, type Command } from 'commander';

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
