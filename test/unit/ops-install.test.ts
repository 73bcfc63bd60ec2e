import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { environmentSources, reverbDefaults } from '../../src/config/defaults.js';
import { mergeConfig } from '../../src/config/index.js';
import { validateConfig } from '../../src/config/schema.js';
import { CONFIG_TEMPLATE } from '../../src/ops/config-template.js';
import { appendMissingEntries, definesKey, randomToken, reverbEnvEntries } from '../../src/ops/env-entries.js';

const GROUPS: [string, string][][] = [
  [
    ['A', '1'],
    ['B', '2'],
  ],
  [['C', '3']],
];

describe('install: .env entries', () => {
  it('draws tokens of lowercase letters and digits', () => {
    const tokens = Array.from({ length: 200 }, () => randomToken(20));
    for (const token of tokens) assert.match(token, /^[a-z0-9]{20}$/);
    assert.equal(new Set(tokens).size, tokens.length);
    // Every symbol turns up: the alphabet is used whole.
    assert.equal(new Set(tokens.join('')).size, 36);
  });

  it('uses Reverb’s keys and a six-digit app id', () => {
    const [reverb, vite] = reverbEnvEntries();
    assert.deepEqual(reverb!.map(([key]) => key), ['REVERB_APP_ID', 'REVERB_APP_KEY', 'REVERB_APP_SECRET', 'REVERB_HOST', 'REVERB_PORT', 'REVERB_SCHEME']);
    assert.match(reverb![0]![1], /^[1-9]\d{5}$/);
    assert.deepEqual(vite!.map(([key]) => key), ['VITE_REVERB_APP_KEY', 'VITE_REVERB_HOST', 'VITE_REVERB_PORT', 'VITE_REVERB_SCHEME']);
  });

  it('recognises assignments only, with dotenv spacing and export', () => {
    assert.ok(definesKey('X=1\nA=2', 'A'));
    assert.ok(definesKey('  export A = 2', 'A'));
    assert.ok(!definesKey('# A=2', 'A'));
    assert.ok(!definesKey('AB=2\nXA=1', 'A'));
    assert.ok(!definesKey('X="A=2"', 'A'));
  });

  it('appends missing keys after a blank line, groups separated by a blank line', () => {
    assert.deepEqual(appendMissingEntries('', GROUPS), { text: 'A=1\nB=2\n\nC=3\n', added: ['A', 'B', 'C'] });
    assert.deepEqual(appendMissingEntries('X=1\n', GROUPS).text, 'X=1\n\nA=1\nB=2\n\nC=3\n');
    assert.deepEqual(appendMissingEntries('X=1', GROUPS).text, 'X=1\n\nA=1\nB=2\n\nC=3\n');
    assert.deepEqual(appendMissingEntries('B=9\n', GROUPS), { text: 'B=9\n\nA=1\n\nC=3\n', added: ['A', 'C'] });
    assert.deepEqual(appendMissingEntries('A=0\nB=0\n', GROUPS), { text: 'A=0\nB=0\n\nC=3\n', added: ['C'] });
  });

  it('changes nothing when every key is there', () => {
    const text = 'A=0\nB=0\nC=0';
    assert.deepEqual(appendMissingEntries(text, GROUPS), { text, added: [] });
  });

  it('keeps Windows line endings', () => {
    assert.equal(appendMissingEntries('X=1\r\n', GROUPS).text, 'X=1\r\n\r\nA=1\r\nB=2\r\n\r\nC=3\r\n');
  });
});

describe('install: reverb.config.mjs', () => {
  it('sets every key that has an environment variable, from that variable', () => {
    for (const [key, variable] of environmentSources()) {
      const name = key.split('.').pop()!.replace(/\[\d+\]$/, '');
      assert.match(CONFIG_TEMPLATE, new RegExp(`\\b${name}: env\\('${variable}'`), `${key} (${variable})`);
    }
  });

  const ENVIRONMENTS: Record<string, string>[] = [
    {},
    {
      REVERB_APP_ID: '123456',
      REVERB_APP_KEY: 'key',
      REVERB_APP_SECRET: 'secret',
      REVERB_SERVER_HOST: '127.0.0.1',
      REVERB_SERVER_PORT: '9000',
      REVERB_SERVER_PATH: 'ws',
      REVERB_HOST: 'ws.example.com',
      REVERB_SCALING_ENABLED: 'true',
      REDIS_PASSWORD: 'null',
      REVERB_APP_MAX_CONNECTIONS: '500',
      REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM: 'all',
      REVERB_APP_RATE_LIMITING_ENABLED: 'true',
      REVERB_SHUTDOWN_TIMEOUT: '3',
    },
  ];

  it('gives exactly the built-in defaults, for any environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reverb-template-'));
    const saved = { ...process.env };
    try {
      for (const [index, vars] of ENVIRONMENTS.entries()) {
        for (const name of Object.keys(process.env)) if (/^(REVERB|REDIS)_/.test(name)) delete process.env[name];
        Object.assign(process.env, vars);
        // A new file per environment: the template reads process.env when it is imported.
        const file = join(dir, `reverb.config.${index}.mjs`);
        writeFileSync(file, CONFIG_TEMPLATE);
        const template = ((await import(pathToFileURL(file).href)) as { default: Record<string, unknown> }).default;
        const options = { debug: false, baseDir: dir };
        assert.deepEqual(
          validateConfig(mergeConfig(reverbDefaults(process.env), template), options),
          validateConfig(reverbDefaults(process.env), options),
        );
      }
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
