/**
 * Round-trip times of the commands the cluster sends to Redis, for whoever
 * watches (the Prometheus metrics): every command of a connection, pipelines
 * and scripts included, is timed from the moment ioredis is given it to the
 * moment its answer (or its failure) arrives. A script is named by its name
 * (reverbSubscription, …), not by EVALSHA, so that its latency says something.
 *
 * The cost per command is two clock reads and two closures: ioredis's own
 * resolve and reject of the command are wrapped, no promise is added.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Why a command got no answer: ioredis's commandTimeout, a connection down or closed, or an error reply from Redis. */
export type RedisFailure = 'timeout' | 'connection' | 'reply';

/** Implemented by the metrics; the names are Redis's command names (lower case) or the cluster's script names. */
export interface RedisCommandObserver {
  /** A command answered by Redis (an error reply included) after `seconds`. */
  answered(command: string, seconds: number): void;
  failed(command: string, reason: RedisFailure): void;
}

/** The SHA1 of each script's source, as EVALSHA names it, to its name. */
export function scriptNames(sources: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  return new Map(Object.entries(sources).map(([name, lua]) => [createHash('sha1').update(lua).digest('hex'), name]));
}

interface TimedCommand {
  name: string;
  args: unknown[];
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

function failure(error: Error): RedisFailure {
  if (error.name === 'ReplyError') return 'reply';
  return /timed out/i.test(error.message) ? 'timeout' : 'connection';
}

/** Times every command sent on `redis` from now on. */
export function timeCommands(redis: Redis, observer: RedisCommandObserver, scripts: ReadonlyMap<string, string>): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    const timed = command as unknown as TimedCommand;
    const name = timed.name === 'evalsha' || timed.name === 'eval' ? (scripts.get(String(timed.args[0])) ?? timed.name) : timed.name;
    const start = performance.now();
    const { resolve, reject } = timed;
    let settled = false;
    timed.resolve = (result) => {
      if (!settled) {
        settled = true;
        observer.answered(name, (performance.now() - start) / 1000);
      }
      resolve(result);
    };
    timed.reject = (error) => {
      if (!settled) {
        settled = true;
        const reason = failure(error);
        if (reason === 'reply') observer.answered(name, (performance.now() - start) / 1000);
        observer.failed(name, reason);
      }
      reject(error);
    };
    return send(command, stream);
  };
}
