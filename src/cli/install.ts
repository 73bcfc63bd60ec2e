/** `reverb install`: prints what src/ops/install.ts did. */
import { relative } from 'node:path';
import { install } from '../ops/install.js';

export function runInstall(): void {
  const cwd = process.cwd();
  const report = install(cwd);
  const envName = relative(cwd, report.envFile);
  const configName = relative(cwd, report.configFile);

  if (report.added.length === 0) console.log(`${envName} already has every Reverb entry: left unchanged.`);
  else console.log(`${report.envCreated ? 'Created' : 'Updated'} ${envName}: added ${report.added.join(', ')}.`);
  if (report.broadcasting) console.log(`Broadcasting in ${envName}: ${report.broadcasting}.`);

  if (report.configCreated) console.log(`Created ${configName} (Reverb's config/reverb.php as JavaScript; edit it to add apps or TLS).`);
  else console.log(`${configName} already exists: left unchanged.`);

  if (report.laravel) {
    const remaining = report.laravel.filter((step) => !step.done);
    if (remaining.length === 0) console.log('Laravel side: done (pusher/pusher-php-server, the reverb connection and Echo are in place).');
    else {
      console.log('Laravel side, still to do:');
      for (const step of remaining) console.log(`  - ${step.what}: ${step.how}`);
    }
  }
  console.log('Reverb installed successfully. Start the server with: npx reverb start');
}
