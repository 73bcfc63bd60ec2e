/**
 * Whether what servers say through the HTTP API matches what their clients
 * know (SessionPool.truth(): who is connected, who is subscribed where),
 * and whether every client's presence view matches the API's member lists;
 * and how long after a disturbance both first hold.
 */
import { sleep } from './clock.mjs';

/** The presence users of `name` as the API lists them (sorted ids), or the failure as a string. */
async function usersOf(api, name) {
  const { users } = await api.json(`/channels/${name}/users`);
  return users.map((user) => String(user.id)).sort();
}

const same = (a, b) => a.length === b.length && a.every((value, index) => value === b[index]);

/**
 * What disagrees, as sentences (empty when nothing does), asking each of
 * `apis` (one ApiClient per server) for the connection count, the occupied
 * channels with their counts, and the users of every presence channel in
 * `presenceChannels` or in the answers. Also returns the users the first
 * server listed, for comparing the clients' views.
 */
export async function apiDiscrepancies(apis, truth, presenceChannels) {
  const found = [];
  let users = {};
  for (const [number, api] of apis.entries()) {
    const who = apis.length > 1 ? `server ${number}: ` : '';
    try {
      const { connections } = await api.json('/connections');
      if (connections !== truth.connections) found.push(`${who}${connections} connections, clients have ${truth.connections}`);
      const { channels } = await api.json('/channels', { info: 'subscription_count,user_count' });
      for (const name of new Set([...Object.keys(channels), ...Object.keys(truth.channels)])) {
        const expected = truth.channels[name]?.length ?? 0;
        const counted = channels[name]?.subscription_count ?? 0;
        if (counted !== expected) found.push(`${who}${name}: subscription_count ${counted}, clients subscribed ${expected}`);
      }
      const listed = {};
      const names = new Set([...presenceChannels, ...Object.keys(channels), ...Object.keys(truth.channels)]);
      for (const name of [...names].filter((one) => one.startsWith('presence-'))) {
        listed[name] = await usersOf(api, name);
        const expected = truth.channels[name] ?? [];
        if (!same(listed[name], expected)) {
          const extra = listed[name].filter((id) => !expected.includes(id));
          const missing = expected.filter((id) => !listed[name].includes(id));
          found.push(`${who}${name}/users: ${listed[name].length} listed, clients ${expected.length} (extra ${extra.slice(0, 3).join(' ') || '-'}, missing ${missing.slice(0, 3).join(' ') || '-'})`);
        }
        const userCount = channels[name]?.user_count ?? 0;
        if (userCount !== listed[name].length) found.push(`${who}${name}: user_count ${userCount}, /users lists ${listed[name].length}`);
      }
      if (number === 0) users = listed;
    } catch (error) {
      found.push(`${who}${error.message}`);
    }
  }
  return { found, users };
}

/**
 * Polls every `everyMs` until the API agrees with the clients and every
 * client's presence view agrees with the API, or `timeoutMs` passed.
 * Returns the seconds since `since` at which each first held (NaN: never),
 * what still disagreed at the last look, and the views as they were when
 * the API first was right.
 */
export async function waitUntilConsistent({ apis, sessions, presenceChannels, since = Date.now(), timeoutMs = 60_000, everyMs = 500 }) {
  const deadline = Date.now() + timeoutMs;
  // viewsMeanwhile: the views as first compared once the API was right (what clients saw wrong, and for how long).
  const result = { apiSeconds: NaN, viewsSeconds: NaN, found: [], views: undefined, viewsMeanwhile: undefined };
  for (;;) {
    const truth = await sessions.truth();
    const { found, users } = await apiDiscrepancies(apis, truth, presenceChannels);
    const views = await sessions.compareViews(users);
    const elapsed = (Date.now() - since) / 1000;
    if (!found.length && Number.isNaN(result.apiSeconds)) {
      result.apiSeconds = elapsed;
      result.viewsMeanwhile = views;
    }
    // Views are compared with the API's lists; they count once those are right.
    if (!found.length && !views.mismatched && Number.isNaN(result.viewsSeconds)) result.viewsSeconds = elapsed;
    Object.assign(result, { found, views, truth });
    if (!Number.isNaN(result.apiSeconds) && !Number.isNaN(result.viewsSeconds)) return result;
    if (Date.now() > deadline) return result;
    await sleep(everyMs);
  }
}
