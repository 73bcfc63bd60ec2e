/**
 * cluster: the fanout run across servers linked by Redis. N subscribers of
 * one channel spread round-robin over the servers of a `clusterN` target,
 * events published into the HTTP API of the first server (A) only, so that
 * B, C, ... get them through Redis. Compared with the same run on one server
 * with scaling on (`cluster1`, the ratio baseline) and, optionally, one
 * server without scaling (`uws` / `ws`).
 */
import { COLUMNS } from '../lib/report.mjs';
import fanout, { LATENCY_AT_RATE } from './fanout.mjs';

export default {
  name: 'cluster',
  summary:
    'N subscribers of one channel spread over the servers, events into server A: latency at a fixed rate (all, on A, on the others), max delivered msgs/s, server and Redis CPU',
  defaults: { ...fanout.defaults, connections: 3000 },
  targets: 'cluster1,cluster3',
  baseline: 'cluster1',
  acceptsClusters: true,
  metrics: [
    ...LATENCY_AT_RATE,
    { key: 'p99OnA', label: 'p99 ms @rate on A', digits: 2, better: 'lower' },
    { key: 'p99OnOthers', label: 'p99 ms @rate on B, C…', digits: 2 },
    { key: 'maxPerSecond', label: 'max delivered msgs/s', digits: 0, better: 'higher' },
    { key: 'cpuPerMillion', label: 'servers CPU s / M msgs', digits: 2, better: 'lower' },
    { key: 'redisCpuPerMillion', label: 'Redis CPU s / M msgs', digits: 3, better: 'lower' },
    { key: 'serverCpuShare', label: 'servers CPU use at max', digits: 2 },
    { key: 'redisCpuShare', label: 'Redis CPU use at max', digits: 2 },
    { key: 'clientCpuShare', label: 'client CPU use at max', digits: 2 },
    { key: 'p99AtMax', label: 'p99 ms at max', digits: 1, better: 'lower' },
    COLUMNS.missing,
  ],
  run: fanout.run,
};
