#!/usr/bin/env node
// `serve` forks its relay process before anything else loads: the relay loads its modules (most
// of a start-up) while this process loads the CLI. See supervisor/relay-process.ts.
if (process.argv[2] === 'serve') (await import('../supervisor/relay-process.js')).prestartRelay();
const { runCli } = await import('./program.js');

process.exitCode = await runCli(process.argv);
