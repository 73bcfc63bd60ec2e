/**
 * Lua scripts for the Redis cluster state. Each runs atomically, so joins and
 * leaves on different servers never lose or duplicate a member, and the
 * member_added / member_removed frames are PUBLISHed inside the same script:
 * every server sees membership events in the order Redis applied them.
 *
 * Keys, under the namespace `ns` (REVERB_SCALING_CHANNEL):
 *   ns:nodes                          zset  node id -> last heartbeat (Redis clock, ms)
 *   ns:last_contact                   string Redis clock (ms) of the latest heartbeat or dead-node check by any node
 *   ns:node:<node>:subs               hash  app\x1fchannel -> this node's subscriptions
 *   ns:node:<node>:users              hash  app\x1fchannel\x1fuser -> member JSON (user has a connection here)
 *   ns:node:<node>:apps               hash  app -> this node's connections
 *   ns:app:<app>:channels             hash  channel -> subscriptions, cluster-wide (occupied channels only)
 *   ns:app:<app>:user_counts          hash  channel -> distinct users (presence channels)
 *   ns:app:<app>:presence:<channel>   hash  user -> number of nodes where the user is connected
 *   ns:app:<app>:members:<channel>    hash  user -> member JSON
 *   ns:app:<app>:connections          hash  node -> connections
 *   ns:app:<app>:cache:<channel>      string, the cached frame, with a TTL
 *   ns:app:<app>:hold:<channel>[\x1f<user>]  string, a departure held back for Pusher's webhook window
 *   ns:app:<app>:rate:<limit>         string, points spent in the app's current 1 s window of an HTTP API limit
 *   ns:app:<app>:announced:<channel>  string, the subscriber count last announced in a subscription_count webhook
 *   ns:node:<node>:online             hash  app\x1fuser -> 1 (the user has a signed-in connection here; watchlist apps)
 *   ns:app:<app>:online               hash  user -> number of nodes where the user is signed in
 *   ns:webhooks:<node>                stream the node's pending webhook deliveries, field j (webhook-stream.ts)
 *   ns:webhook_streams                set   nodes that may have such a stream
 * Pub/sub topics: ns:channel:<app>:<channel> (deliveries, and member lists for
 * the sync after a fault), ns:control (terminate, restart), ns:watch:<app>
 * (a user came online or went offline: watchlist events).
 */

const COMMON = `
local SEP = '\\31'
local ns = ARGV[1]

local function appKey(app, suffix) return ns .. ':app:' .. app .. ':' .. suffix end
local function nodeKey(node, suffix) return ns .. ':node:' .. node .. ':' .. suffix end

local function hashToTable(flat)
  local out = {}
  for i = 1, #flat, 2 do out[flat[i]] = flat[i + 1] end
  return out
end

-- "app SEP channel [SEP user]"; the user id comes last and may contain anything.
local function splitField(field)
  local a = string.find(field, SEP, 1, true)
  local app = string.sub(field, 1, a - 1)
  local b = string.find(field, SEP, a + 1, true)
  if not b then return app, string.sub(field, a + 1), nil end
  return app, string.sub(field, a + 1, b - 1), string.sub(field, b + 1)
end

-- "app SEP user" (the user id may contain anything).
local function splitAppUser(field)
  local a = string.find(field, SEP, 1, true)
  return string.sub(field, 1, a - 1), string.sub(field, a + 1)
end

local function adjust(key, field, delta)
  local value = redis.call('HINCRBY', key, field, delta)
  if value <= 0 then redis.call('HDEL', key, field) end
  return value
end

-- Cluster-wide channel and member transitions, for webhooks: returned to the
-- node whose script made them, so exactly one node reports each. Departures
-- (vacated, member left) are held back for Pusher's 3 s window in a hold key:
-- an arrival within it deletes the key and is not reported, and the reporting
-- node claims the key when its window ends (CLAIM_DEPARTURE), sending nothing
-- if it is gone. The key's own expiry only cleans up after a node that died.
local transitions = {}
local function holdKey(app, channel, user)
  return appKey(app, 'hold:' .. channel .. (user and (SEP .. user) or ''))
end
local function arrived(kind, app, channel, user)
  if redis.call('DEL', holdKey(app, channel, user)) == 0 then
    transitions[#transitions + 1] = { kind, app, channel, user or '' }
  end
end
local function departed(kind, app, channel, user)
  redis.call('SET', holdKey(app, channel, user), '1', 'PX', 60000)
  transitions[#transitions + 1] = { kind, app, channel, user or '' }
end

-- The cluster-wide subscription count of a channel changes: 'o'ccupied when it leaves 0, 'v'acated when it gets there.
local function adjustChannel(app, channel, delta)
  local value = adjust(appKey(app, 'channels'), channel, delta)
  local before = value - delta
  if before <= 0 and value > 0 then arrived('o', app, channel) end
  if before > 0 and value <= 0 then departed('v', app, channel) end
end

local function topic(app, channel) return ns .. ':channel:' .. app .. ':' .. channel end

-- A membership event; 'j' (member JSON, joined) or 'r' (user id, left) lets
-- each server keep its clients' view of the members (presence-views.ts).
local function publishMember(app, channel, frame, except, kind, value)
  local message = { a = app, c = channel, f = frame }
  if except ~= nil and except ~= '' then message.x = except end
  message[kind] = value
  redis.call('PUBLISH', topic(app, channel), cjson.encode(message))
end

local function addedFrame(channel, member)
  return '{"event":"pusher_internal:member_added","data":' .. cjson.encode(member.channelDataJson) ..
    ',"channel":' .. cjson.encode(channel) .. '}'
end

local function removedFrame(channel, member)
  return '{"event":"pusher_internal:member_removed","data":' ..
    cjson.encode('{"user_id":' .. member.userIdJson .. '}') .. ',"channel":' .. cjson.encode(channel) .. '}'
end

-- A user got a connection on one more node; announce when it is the first node.
local function memberJoin(app, channel, user, memberJson, frame, except)
  if redis.call('HINCRBY', appKey(app, 'presence:' .. channel), user, 1) == 1 then
    redis.call('HSET', appKey(app, 'members:' .. channel), user, memberJson)
    redis.call('HINCRBY', appKey(app, 'user_counts'), channel, 1)
    publishMember(app, channel, frame or addedFrame(channel, cjson.decode(memberJson)), except, 'j', memberJson)
    arrived('a', app, channel, user)
    return 1
  end
  return 0
end

-- A user lost its last connection on one node; announce when no node has it.
local function memberLeave(app, channel, user, memberJson, frame)
  local presence = appKey(app, 'presence:' .. channel)
  if redis.call('HINCRBY', presence, user, -1) <= 0 then
    redis.call('HDEL', presence, user)
    redis.call('HDEL', appKey(app, 'members:' .. channel), user)
    adjust(appKey(app, 'user_counts'), channel, -1)
    publishMember(app, channel, frame or removedFrame(channel, cjson.decode(memberJson)), nil, 'r', user)
    departed('r', app, channel, user)
    return 1
  end
  return 0
end

-- A user got a signed-in connection on one more node (delta 1) or lost it on
-- one (-1); every server hears when that makes the user online or offline cluster-wide.
local function userOnline(app, user, delta)
  local count = adjust(appKey(app, 'online'), user, delta)
  if (delta > 0 and count == delta) or (delta < 0 and count <= 0) then
    redis.call('PUBLISH', ns .. ':watch:' .. app, cjson.encode({ u = user, on = delta > 0 }))
  end
end

-- Makes the node's registered state equal to 'desired' ({subs, users, apps}),
-- applying only the differences to the cluster-wide counts and members.
-- Growing counts go first and shrinking ones last, so that transitions come
-- in Pusher's order: occupied before member_added, member_removed before vacated.
local function reconcile(node, desired)
  local subsKey, usersKey, appsKey = nodeKey(node, 'subs'), nodeKey(node, 'users'), nodeKey(node, 'apps')

  local old = hashToTable(redis.call('HGETALL', subsKey))
  local shrinking = {}
  for field, count in pairs(desired.subs) do
    local delta = tonumber(count) - tonumber(old[field] or 0)
    if delta > 0 then
      local app, channel = splitField(field)
      adjustChannel(app, channel, delta)
    elseif delta < 0 then
      shrinking[field] = delta
    end
    old[field] = nil
  end
  for field, count in pairs(old) do shrinking[field] = -tonumber(count) end
  redis.call('DEL', subsKey)
  for field, count in pairs(desired.subs) do redis.call('HSET', subsKey, field, count) end

  old = hashToTable(redis.call('HGETALL', usersKey))
  for field, memberJson in pairs(desired.users) do
    if old[field] == nil then
      local app, channel, user = splitField(field)
      memberJoin(app, channel, user, memberJson, nil, nil)
    end
    old[field] = nil
  end
  for field, memberJson in pairs(old) do
    local app, channel, user = splitField(field)
    memberLeave(app, channel, user, memberJson, nil)
  end
  redis.call('DEL', usersKey)
  for field, memberJson in pairs(desired.users) do redis.call('HSET', usersKey, field, memberJson) end

  for field, delta in pairs(shrinking) do
    local app, channel = splitField(field)
    adjustChannel(app, channel, delta)
  end

  local onlineKey = nodeKey(node, 'online')
  old = hashToTable(redis.call('HGETALL', onlineKey))
  for field, _ in pairs(desired.online or {}) do
    if old[field] == nil then
      local app, user = splitAppUser(field)
      userOnline(app, user, 1)
    end
    old[field] = nil
  end
  for field, _ in pairs(old) do
    local app, user = splitAppUser(field)
    userOnline(app, user, -1)
  end
  redis.call('DEL', onlineKey)
  for field, _ in pairs(desired.online or {}) do redis.call('HSET', onlineKey, field, 1) end

  old = hashToTable(redis.call('HGETALL', appsKey))
  for app, _ in pairs(old) do
    if desired.apps[app] == nil then redis.call('HDEL', appKey(app, 'connections'), node) end
  end
  redis.call('DEL', appsKey)
  for app, count in pairs(desired.apps) do
    redis.call('HSET', appKey(app, 'connections'), node, count)
    redis.call('HSET', appsKey, app, count)
  end
end

local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Called by every heartbeat and dead-node check. Nodes heartbeat every
-- timeout/3, so a gap of more than timeout/2 since anyone's last contact means
-- nobody could reach Redis (Redis itself paused, or every node cut off): that
-- time says nothing about any one node, so it is credited to every heartbeat
-- and nobody is removed for it: a node's heartbeat then counts as at most one
-- spacing old, and its next one follows within another. A node that really
-- died meanwhile goes a timeout later. Returns the Redis clock.
local function contact(timeoutMs)
  local now = nowMs()
  local lastKey = ns .. ':last_contact'
  local gap = now - tonumber(redis.call('GET', lastKey) or now)
  if gap > timeoutMs / 2 then
    local nodes = redis.call('ZRANGE', ns .. ':nodes', 0, -1, 'WITHSCORES')
    for i = 1, #nodes, 2 do redis.call('ZADD', ns .. ':nodes', tonumber(nodes[i + 1]) + gap, nodes[i]) end
  end
  redis.call('SET', lastKey, now)
  return now
end
`;

/**
 * ARGV: ns, app, limit name, points, limit. Spends the points of the app's
 * current 1-second window when they fit (a refused request spends nothing).
 * Returns {allowed 0/1, points spent, ms until the window ends}.
 */
export const RATE_SPEND = `${COMMON}
local key = appKey(ARGV[2], 'rate:' .. ARGV[3])
local points, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local spent = tonumber(redis.call('GET', key) or '0')
local left = redis.call('PTTL', key)
if left < 0 then spent, left = 0, 1000 end
if spent + points > limit then return {0, spent, left} end
spent = redis.call('INCRBY', key, points)
if spent == points then redis.call('PEXPIRE', key, 1000) end
return {1, spent, left}
`;

/**
 * ARGV: ns, app, channel. The channel's cluster-wide subscriber count when it
 * differs from the one last announced (which it then becomes), else -1: one
 * subscription_count webhook per change however many servers saw it.
 */
export const ANNOUNCE_SUBSCRIPTION_COUNT = `${COMMON}
local app, channel = ARGV[2], ARGV[3]
local count = tonumber(redis.call('HGET', appKey(app, 'channels'), channel) or '0')
local key = appKey(app, 'announced:' .. channel)
if tonumber(redis.call('GET', key) or '0') == count then return -1 end
if count == 0 then redis.call('DEL', key) else redis.call('SET', key, count, 'EX', 86400) end
return count
`;

/** ARGV: ns, node, app, channel, delta (+1 / -1). Returns the transitions. */
export const SUBSCRIPTION = `${COMMON}
local node, app, channel, delta = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local key, field = nodeKey(node, 'subs'), app .. SEP .. channel
local next = tonumber(redis.call('HGET', key, field) or '0') + delta
if next < 0 then return transitions end
if next == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, next) end
adjustChannel(app, channel, delta)
return transitions
`;

/** ARGV: ns, node, app, connections on this node. */
export const CONNECTIONS = `${COMMON}
local node, app, count = ARGV[2], ARGV[3], tonumber(ARGV[4])
if count > 0 then
  redis.call('HSET', appKey(app, 'connections'), node, count)
  redis.call('HSET', nodeKey(node, 'apps'), app, count)
else
  redis.call('HDEL', appKey(app, 'connections'), node)
  redis.call('HDEL', nodeKey(node, 'apps'), app)
end
return 1
`;

/**
 * ARGV: ns, node, app, channel, user, member JSON, member_added frame, socket id to skip, max distinct users, join token.
 * Returns {added, member JSONs}, or {-1, {}} when a new user would take the channel past the maximum.
 * Also publishes a marker with the token on the channel's topic: the member
 * list is exact at that point of the channel's events (presence-views.ts).
 */
export const PRESENCE_JOIN = `${COMMON}
local node, app, channel, user, memberJson, frame, except = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local maxMembers = tonumber(ARGV[9])
local membersKey = appKey(app, 'members:' .. channel)
if redis.call('HEXISTS', membersKey, user) == 0 and redis.call('HLEN', membersKey) >= maxMembers then
  return { -1, {} }
end
local added = 0
if redis.call('HSETNX', nodeKey(node, 'users'), app .. SEP .. channel .. SEP .. user, memberJson) == 1 then
  added = memberJoin(app, channel, user, memberJson, frame, except)
end
redis.call('PUBLISH', topic(app, channel), cjson.encode({ a = app, c = channel, k = ARGV[10] }))
return { added, redis.call('HVALS', membersKey), transitions }
`;

/** ARGV: ns, node, app, channel, user, member_removed frame. Returns the transitions (a member left cluster-wide). */
export const PRESENCE_LEAVE = `${COMMON}
local node, app, channel, user, frame = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('HDEL', nodeKey(node, 'users'), app .. SEP .. channel .. SEP .. user) == 1 then
  memberLeave(app, channel, user, nil, frame)
end
return transitions
`;

/** ARGV: ns, node, app, user, 1 (signed in here) or 0 (signed out here). */
export const USER_PRESENCE = `${COMMON}
local node, app, user = ARGV[2], ARGV[3], ARGV[4]
local field = app .. SEP .. user
if ARGV[5] == '1' then
  if redis.call('HSETNX', nodeKey(node, 'online'), field, 1) == 1 then userOnline(app, user, 1) end
elseif redis.call('HDEL', nodeKey(node, 'online'), field) == 1 then
  userOnline(app, user, -1)
end
return 1
`;

/** ARGV: ns, node, desired state JSON. Re-registers this node after Redis was away; returns the transitions. */
export const RECONCILE = `${COMMON}
reconcile(ARGV[2], cjson.decode(ARGV[3]))
return transitions
`;

/**
 * ARGV: ns, app, channel, user ('' for a channel), and for a departure kept
 * in a node's webhook stream: the node, the entry id, the entry as a plain
 * delivery. The end of a departure's hold: 1 (or the new entry's id) when it
 * still stands (report it), 0 when an arrival cancelled it. The stream entry
 * changes in the same step, so that a node taking over the stream later
 * never claims a departure twice: the hold key is gone either way.
 */
export const CLAIM_DEPARTURE = `${COMMON}
local user = ARGV[4]
if user == '' then user = nil end
local stands = redis.call('DEL', holdKey(ARGV[2], ARGV[3], user))
local node = ARGV[5]
if not node then return stands end
local stream = ns .. ':webhooks:' .. node
redis.call('XDEL', stream, ARGV[6])
if stands == 0 then return 0 end
redis.call('SADD', ns .. ':webhook_streams', node)
return redis.call('XADD', stream, '*', 'j', ARGV[7])
`;

/**
 * ARGV: ns, node. Moves the webhook streams of nodes that are no longer
 * registered (removed as dead, or deregistered with deliveries left) into
 * this node's stream, in their order, each exactly once for the whole
 * cluster. Returns {new id, entry} pairs. Only a registered node adopts.
 */
export const ADOPT_WEBHOOKS = `${COMMON}
local taker, nodes, streams = ARGV[2], ns .. ':nodes', ns .. ':webhook_streams'
if not redis.call('ZSCORE', nodes, taker) then return {} end
local to = ns .. ':webhooks:' .. taker
local adopted = {}
for _, node in ipairs(redis.call('SMEMBERS', streams)) do
  if not redis.call('ZSCORE', nodes, node) then
    local from = ns .. ':webhooks:' .. node
    for _, entry in ipairs(redis.call('XRANGE', from, '-', '+')) do
      adopted[#adopted + 1] = { redis.call('XADD', to, '*', unpack(entry[2])), entry[2][2] }
    end
    redis.call('DEL', from)
    redis.call('SREM', streams, node)
  end
end
if #adopted > 0 then redis.call('SADD', streams, taker) end
return adopted
`;

/**
 * ARGV: ns, node, timeout ms. Returns 1 when the node was not registered (new,
 * removed as dead meanwhile, or Redis lost its data).
 */
export const HEARTBEAT = `${COMMON}
return redis.call('ZADD', ns .. ':nodes', contact(tonumber(ARGV[3])), ARGV[2])
`;

/** ARGV: ns, timeout ms. Removes nodes silent for longer than the timeout; returns {their ids, the transitions}. */
export const REMOVE_DEAD_NODES = `${COMMON}
local dead = redis.call('ZRANGEBYSCORE', ns .. ':nodes', '-inf', contact(tonumber(ARGV[2])) - tonumber(ARGV[2]))
local empty = { subs = {}, users = {}, apps = {}, online = {} }
for _, node in ipairs(dead) do
  redis.call('ZREM', ns .. ':nodes', node)
  reconcile(node, empty)
end
return { dead, transitions }
`;

/** ARGV: ns, node. A graceful exit: the node's state goes, like a dead node's, at once. Returns the transitions. */
export const DEREGISTER = `${COMMON}
redis.call('ZREM', ns .. ':nodes', ARGV[2])
reconcile(ARGV[2], { subs = {}, users = {}, apps = {}, online = {} })
return transitions
`;

/**
 * ARGV: ns, node, removals (1/0), then app, channel pairs. Publishes each
 * channel's member list on the channel's topic, so that the node receives it
 * in order with the membership events and can tell its clients what they
 * missed (presence-views.ts). Other nodes ignore it.
 */
export const SYNC_PRESENCE = `${COMMON}
local node, removals = ARGV[2], ARGV[3] == '1'
for i = 4, #ARGV, 2 do
  local app, channel = ARGV[i], ARGV[i + 1]
  local members = redis.call('HVALS', appKey(app, 'members:' .. channel))
  redis.call('PUBLISH', topic(app, channel), cjson.encode({ s = node, a = app, c = channel, m = members, d = removals }))
end
return 1
`;
