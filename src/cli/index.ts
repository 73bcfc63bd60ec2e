#!/usr/bin/env node
/** `reverb` command line: argument parsing and printing only. */
// Must stay the first import: see node-flags.ts.
import './node-flags.js';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { runInstall } from './install.js';
import { runRestart } from './restart.js';
import { runStart } from './start.js';

// src/cli and dist/cli are both two levels below the package root.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('reverb')
  .description('Laravel Reverb for Node.js: a Pusher-protocol WebSocket server')
  .version(version, '-V, --version', 'Print the reverb-ts version');

program
  .command('start')
  .description('Start the Reverb server')
  .option('--host <host>', 'The IP address the server should bind to')
  .option('--port <port>', 'The port the server should listen on')
  .option('--path <path>', 'The path the server should prefix to all routes')
  .option('--hostname <hostname>', 'The hostname the server is accessible from')
  .option('--debug', 'Indicates whether debug messages should be displayed in the terminal')
  .option('--config <file>', 'Configuration file (default: reverb.config.json, .mjs or .js in the working directory)')
  .option('--env-file <file>', 'Environment file to load first (default: .env in the working directory)')
  .addOption(new Option('--log-format <format>', 'Log output format').choices(['pretty', 'json']))
  .addOption(
    new Option('--transport <transport>', 'WebSocket library (auto: uWebSockets.js when it loads natively, else ws)').choices([
      'auto',
      'uws',
      'ws',
    ]),
  )
  .action(runStart);

program
  .command('restart')
  .description(
    'Restart the Reverb server: every server of this installation shuts down gracefully and exits 0 (with scaling: every server on the same Redis and scaling channel)',
  )
  .option('--config <file>', 'Configuration file, read for the scaling settings (default: as for start)')
  .option('--env-file <file>', 'Environment file to load first (default: .env in the working directory)')
  .action(runRestart);

program
  .command('install')
  .description('Install Reverb: add the REVERB_* entries to .env and write reverb.config.mjs')
  .action(runInstall);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
