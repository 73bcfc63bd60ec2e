#!/usr/bin/env node
/** `reverb` command line: argument parsing and printing only. */
// Must stay the first import: see node-flags.ts.
import './node-flags.js';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';

/**
 * A command's module is loaded when the command runs: `reverb --version` and
 * each `apps:*` call load only what they use (the server's modules, database
 * drivers and uWebSockets.js take most of a second to load).
 */
function lazy<M>(load: () => Promise<M>, name: keyof M) {
  return async (...args: unknown[]): Promise<void> => {
    const module = await load();
    await (module[name] as (...args: unknown[]) => unknown)(...args);
  };
}
const apps = () => import('./apps.js');

/** Collects a repeated option. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

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
  .action(lazy(() => import('./start.js'), 'runStart'));

program
  .command('restart')
  .description(
    'Restart the Reverb server: every server of this installation shuts down gracefully and exits 0 (with scaling: every server on the same Redis and scaling channel)',
  )
  .option('--config <file>', 'Configuration file, read for the scaling settings (default: as for start)')
  .option('--env-file <file>', 'Environment file to load first (default: .env in the working directory)')
  .action(lazy(() => import('./restart.js'), 'runRestart'));

program
  .command('install')
  .description('Install Reverb: add the REVERB_* entries to .env and write reverb.config.mjs')
  .action(lazy(() => import('./install.js'), 'runInstall'));

/** An `apps:*` command reading the same configuration as `start`. */
function appsCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--config <file>', 'Configuration file (default: as for start)')
    .option('--env-file <file>', 'Environment file to load first (default: .env in the working directory)')
    .option('--json', 'Print JSON instead of text');
}

/** The options that set an app's settings (columns of the apps table). */
function withSettings(command: Command): Command {
  return command
    .option('--key <key>', 'The app key (default on create: 20 random characters)')
    .option('--allowed-origins <origins>', 'Allowed origins: comma-separated or a JSON array (* = any)')
    .option('--max-connections <n>', 'Most connections the app may have open')
    .option('--webhooks <json>', 'Webhooks as JSON: [{"url": …, "event_types": […]}]')
    .option('--set <column=value>', 'Any setting column of the apps table (repeatable; an empty value or null = the default)', collect, []);
}

withSettings(appsCommand('apps:create', 'Add an app to the apps table (database app provider) and print its credentials once'))
  .option('--id <id>', 'The app id (default: six random digits)')
  .option('--secret <secret>', 'The app secret (default: 20 random characters)')
  .option('--disabled', 'Create it disabled')
  .action(lazy(apps, 'runAppsCreate'));

appsCommand('apps:list', 'List the apps of the apps table (never their secrets)').action(lazy(apps, 'runAppsList'));

withSettings(appsCommand('apps:update', "Change an app's settings in the apps table").argument('<id>', 'The app id')).action(lazy(apps, 'runAppsUpdate'));

appsCommand('apps:rotate-secret', 'Give an app a new secret and print it once').argument('<id>', 'The app id').action(lazy(apps, 'runAppsRotateSecret'));

appsCommand('apps:disable', 'Disable an app: new connections are refused and its open ones closed').argument('<id>', 'The app id').action(lazy(apps, 'runAppsDisable'));

appsCommand('apps:enable', 'Enable a disabled app').argument('<id>', 'The app id').action(lazy(apps, 'runAppsEnable'));

appsCommand('apps:delete', 'Delete an app from the apps table: its open connections are closed').argument('<id>', 'The app id').action(lazy(apps, 'runAppsDelete'));

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
