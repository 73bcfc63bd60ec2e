/** Reverb's ConfigApplicationProvider: the apps of the configuration, fixed at start-up. */
import type { AppConfig } from '../config/types.js';
import type { ApplicationProvider } from '../protocol/apps.js';

export class ConfigApplicationProvider implements ApplicationProvider {
  private readonly byId = new Map<string, AppConfig>();
  private readonly byKey = new Map<string, AppConfig>();

  constructor(private readonly apps: readonly AppConfig[]) {
    for (const app of apps) {
      this.byId.set(app.id, app);
      this.byKey.set(app.key, app);
    }
  }

  all(): Promise<readonly AppConfig[]> {
    return Promise.resolve(this.apps);
  }

  findById(id: string): AppConfig | undefined {
    return this.byId.get(id);
  }

  findByKey(key: string): AppConfig | undefined {
    return this.byKey.get(key);
  }

  /** Nothing is cached: the configuration is the source. */
  forget(): void {}

  /** The configuration does not change while the server runs (a restart reads it again). */
  onChange(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
