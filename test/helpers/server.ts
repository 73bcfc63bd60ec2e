/**
 * Starts a real `reverb start` process for end-to-end tests: writes a config
 * file in the SPEC.md shape into a temporary folder, picks a free port and
 * waits until /up answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../../dist/cli/index.js');

export interface TestApp {
  app_id: string;
  key: string;
  secret: string;
  [option: string]: unknown;
}

export const DEFAULT_APP: TestApp = {
  app_id: '123456',
  key: 'reverb-key',
  secret: 'reverb-secret',
  allowed_origins: ['*'],
  ping_interval: 60,
  activity_timeout: 30,
  max_message_size: 10_000,
  accept_client_events_from: 'members',
};

export interface StartedServer {
  readonly port: number;
  readonly host: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly process: ChildProcess;
  readonly dir: string;
  /** Everything the process printed so far. */
  output(): string;
  /** The transport the server reported at start-up (`ws` or `uws`). */
  readonly transport: string;
  /** Waits for a line matching `pattern` in the output. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function transportEnv(): Record<string, string> {
  const transport = process.env.REVERB_TRANSPORT;
  return transport ? { REVERB_TRANSPORT: transport } : {};
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface StartOptions {
  apps?: TestApp[];
  /** Extra keys merged into servers.reverb. */
  server?: Record<string, unknown>;
  /** Extra CLI arguments after `start`. */
  args?: readonly string[];
  env?: Record<string, string>;
  /** Write no config file (use env / flags only). */
  noConfigFile?: boolean;
  /** Files to create in the working directory before start. */
  files?: Record<string, string>;
  /** Working directory to use instead of a fresh temporary one (the caller removes it). */
  dir?: string;
  /** Command (and arguments) to run the server under, e.g. ['prlimit', '--nofile=256:256']. */
  wrapper?: string[];
}

export async function startServer(options: StartOptions = {}): Promise<StartedServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'reverb-test-'));
  const port = await freePort();
  const host = '127.0.0.1';
  if (!options.noConfigFile) {
    const config = {
      servers: { reverb: { host, port, ...options.server } },
      apps: { provider: 'config', apps: options.apps ?? [DEFAULT_APP] },
    };
    writeFileSync(join(dir, 'reverb.config.json'), JSON.stringify(config, null, 2));
  }
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);

  const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
  const child = spawn(command!, [...prefix, CLI, 'start', ...(options.args ?? [])], {
    cwd: dir,
    // REVERB_TRANSPORT picks the transport for a whole run (test/run.mjs runs the e2e suite once per transport).
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...transportEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const waitForOutput = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolveWait, reject) => {
      const check = () => {
        if (pattern.test(output)) {
          clearTimeout(timer);
          waiters.delete(check);
          resolveWait();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`Timed out waiting for ${pattern} in server output:\n${output}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const actualPort = Number(options.env?.REVERB_SERVER_PORT ?? options.server?.port ?? port);
  const started: StartedServer = {
    port: actualPort,
    host,
    url: `http://${host}:${actualPort}`,
    wsUrl: `ws://${host}:${actualPort}`,
    process: child,
    dir,
    output: () => output,
    get transport() {
      return /Transport: (\w+)/.exec(output)?.[1] ?? 'ws';
    },
    waitForOutput,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timeout);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  try {
    await Promise.race([
      waitForOutput(/Starting (secure )?server on/),
      exited.then((code) => {
        throw new Error(`server exited with ${code} before starting:\n${output}`);
      }),
    ]);
  } catch (error) {
    await started.stop('SIGKILL');
    throw error;
  }
  return started;
}

export interface SuiteServerHooks {
  /** Runs once the server is up: keep it, make API clients, open bystanders (awaited; its value is ignored). */
  started(server: StartedServer): unknown;
  /** Runs after the suite's tests, before the server stops: close the suite's clients. */
  stopping?(): void | Promise<void>;
}

/** The server of a `describe` block: started before its tests, stopped after them. */
export function serverForSuite(options: StartOptions, hooks: SuiteServerHooks): void {
  let server: StartedServer | undefined;
  before(async () => {
    server = await startServer(options);
    await hooks.started(server);
  });
  after(async () => {
    await hooks.stopping?.();
    await server?.stop();
  });
}
