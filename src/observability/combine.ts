/** Several listeners on the protocol's reports: every method of `extra` runs after the base one. */
import type { ProtocolObserver } from '../protocol/observer.js';

type Method = (...args: never[]) => void;

export function combineObservers(base: ProtocolObserver, extra: Partial<ProtocolObserver>): ProtocolObserver {
  const combined: Record<string, Method> = { ...(base as unknown as Record<string, Method>) };
  for (const [name, method] of Object.entries(extra) as [string, Method][]) {
    const first = combined[name]!;
    combined[name] = (...args: never[]) => {
      first(...args);
      method(...args);
    };
  }
  return combined as unknown as ProtocolObserver;
}
