/**
 * `--transport auto|uws|ws` (servers.reverb.transport, REVERB_TRANSPORT):
 * the choice is printed at start-up, and `auto` falls back to ws, saying why,
 * when uWebSockets.js would only load its JavaScript shim.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';
import { uwsAvailability } from '../../src/transport/uws-loader.js';

const uws = uwsAvailability();
/** The registry republish honours this switch and then returns its JavaScript shim. */
const FORCE_SHIM = { UWS_USE_FALLBACK: '1' };

async function transportLine(options: Parameters<typeof startServer>[0]): Promise<string> {
  const server = await startServer(options);
  try {
    const client = await RawClient.connect(`${server.wsUrl}/app/reverb-key`);
    client.ws.close();
    return /Transport: (.*)/.exec(server.output())?.[1] ?? '';
  } finally {
    await server.stop();
  }
}

describe('transport selection', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reverb-transport-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the transport in use; --transport ws wins over REVERB_TRANSPORT', async () => {
    assert.equal(await transportLine({ args: ['--transport', 'ws'], env: { REVERB_TRANSPORT: 'uws' } }), 'ws');
  });

  it('reads servers.reverb.transport from the config file, over REVERB_TRANSPORT', async () => {
    assert.equal(await transportLine({ server: { transport: 'ws' }, env: { REVERB_TRANSPORT: 'uws' } }), 'ws');
  });

  it('auto picks uWebSockets.js when it loads natively, else ws with the reason', async () => {
    const line = await transportLine({ env: { REVERB_TRANSPORT: 'auto' } });
    if (uws.available) assert.match(line, /^uws \(.*native uws_/);
    else assert.equal(line, `ws (uWebSockets.js unavailable: ${uws.reason})`);
  });

  it('auto treats the JavaScript shim of uWebSockets.js as unavailable', { skip: !uws.available && uws.reason }, async () => {
    const line = await transportLine({ env: { REVERB_TRANSPORT: 'auto', ...FORCE_SHIM } });
    assert.match(line, /^ws \(uWebSockets\.js unavailable: .*JavaScript fallback/);
  });

  it('--transport uws refuses to start without the native binary, naming the reason', { skip: !uws.available && uws.reason }, async () => {
    const result = await runCli(['start', '--host', '127.0.0.1', '--port', '0', '--transport', 'uws'], { cwd: dir, env: FORCE_SHIM });
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /The uws transport is unavailable: .*JavaScript fallback.*--transport ws or auto/);
  });

  it('rejects an unknown transport in the config, naming the key', async () => {
    const result = await runCli(['start'], { cwd: dir, env: { REVERB_TRANSPORT: 'uwebsockets' } });
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /servers\.reverb\.transport \(REVERB_TRANSPORT\) = "uwebsockets" \(expected one of auto, uws, ws\)/);
  });
});
