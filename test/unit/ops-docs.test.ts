import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { environmentSources, reverbDefaults } from '../../src/config/defaults.js';
import { mergeConfig } from '../../src/config/index.js';
import { validateConfig } from '../../src/config/schema.js';

const CONFIGURATION = readFileSync(resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');

describe('docs/configuration.md', () => {
  it('documents every configuration key that has an environment variable, with its variable', () => {
    for (const [key, variable] of environmentSources()) {
      if (key === 'default') continue;
      const documented = key.replace(/^servers\.reverb\./, '').replace(/^apps\.apps\[0\]\./, '');
      assert.ok(CONFIGURATION.includes(`\`${variable}\``), `${variable} is documented`);
      assert.ok(CONFIGURATION.includes(`\`${documented}\``), `${key} is documented as ${documented}`);
    }
  });

  it('shows a multi-app reverb.config.json that is valid', () => {
    const example = /```json\n([\s\S]*?)```/.exec(CONFIGURATION);
    assert.ok(example, 'there is a JSON example');
    const config = validateConfig(mergeConfig(reverbDefaults({}), JSON.parse(example[1]!)), { debug: false, baseDir: '.' });
    assert.deepEqual(config.apps.map((app) => app.id), ['shop', 'admin', 'chat']);
    assert.equal(config.apps[2]!.rateLimiting.enabled, true);
  });
});
