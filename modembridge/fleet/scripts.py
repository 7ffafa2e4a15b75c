"""The Lua scripts that make each step of the shared queue one atomic operation on the Redis server.

Every script reads the time from the server (``TIME``), so hosts whose clocks disagree still agree on
leases. Keys (prefix ``mb:<group>:``): ``lane:<lane>`` a stream per lane (``any``; ``m:<modem>`` for jobs
only that modem may take), read by the consumer group ``<group>`` with one consumer per host;
``job:<id>`` a hash per job (``data``: the job as JSON; ``state`` queued | leased | done; ``owner``,
``modem``, ``lease_until`` in ms; ``lane`` and ``entry``, its current stream entry; ``p<seq>`` each
part's state; ``r<seq>`` set when a part was queued again after an unknown; ``begun_on``, the modem that
wrote its first AT+CMGS); ``cid:<client id>``; ``lanes`` (a set); ``unknown`` (a sorted set of
``<job>:<seq>`` by time); ``hosts``, ``seen`` and ``modems`` (hashes written by the heartbeats).
"""

from __future__ import annotations

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_HASH = """
local function hash(key)
  local flat = redis.call('HGETALL', key)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end
local function final(s) return s == 'sent' or s == 'failed' or s == 'unknown' end
"""

# KEYS: [cid key]; ARGV: prefix, cid record, cid ttl, n, then n x (job id, lane, data, parts).
# Returns the earlier cid record when the client id is taken (nothing written), else nil.
SUBMIT = _NOW + """
local prefix = ARGV[1]
if #KEYS == 1 then
  local prev = redis.call('GET', KEYS[1])
  if prev then return prev end
end
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  local job, lane, data, parts = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local key = prefix .. 'job:' .. job
  local entry = redis.call('XADD', prefix .. 'lane:' .. lane, '*', 'job', job)
  redis.call('HSET', key, 'data', data, 'state', 'queued', 'lane', lane, 'entry', entry, 'parts', parts,
             'owner', '', 'modem', '', 'begun_on', '', 'lease_until', 0, 'created', now)
  for s = 1, parts do redis.call('HSET', key, 'p' .. s, 'queued') end
  redis.call('SADD', prefix .. 'lanes', lane)
end
if #KEYS == 1 then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return false
"""

# A job's stream entry was just delivered to this host (XREADGROUP): lease it to the modem.
# KEYS: job; ARGV: host, modem, lease ms, stream, group, entry. Returns 1, or 0 for a stale entry.
CLAIM = _NOW + """
local state, entry = unpack(redis.call('HMGET', KEYS[1], 'state', 'entry'))
if (not state) or state == 'done' or entry ~= ARGV[6] then
  redis.call('XACK', ARGV[4], ARGV[5], ARGV[6])
  redis.call('XDEL', ARGV[4], ARGV[6])
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'leased', 'owner', ARGV[1], 'modem', ARGV[2],
           'lease_until', now + tonumber(ARGV[3]))
return 1
"""

# An entry idle for a lease was moved to this host (XAUTOCLAIM): take the job over if its lease expired.
# KEYS: job; ARGV: host, modem, lease ms, stream, group, entry, unknown policy, prefix, job id, done ttl.
# Returns {verdict, detail}: taken (detail: the previous owner), held (its owner renewed: given back),
# gone (stale entry), done (every part was final), relaned (detail: the lane of the modem that began it).
TAKEOVER = _NOW + _HASH + """
local host, modem, stream, group, entry = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local prefix, job = ARGV[8], ARGV[9]
local h = hash(KEYS[1])
if (not h.state) or h.state == 'done' or h.entry ~= entry then
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  return {'gone', ''}
end
if h.state == 'leased' and h.owner ~= host and tonumber(h.lease_until) > now then
  redis.call('XCLAIM', stream, group, h.owner, 0, entry, 'JUSTID')
  return {'held', h.owner}
end
local begun, open = false, false
for s = 1, tonumber(h.parts) do
  local ps = h['p' .. s]
  if ps == 'sending' then  -- its owner was inside AT+CMGS (or had not yet reported the answer)
    if ARGV[7] == 'resend' then
      ps = 'queued'
      redis.call('HSET', KEYS[1], 'r' .. s, '1')
      h['r' .. s] = '1'
    else
      ps = 'unknown'
      redis.call('ZADD', prefix .. 'unknown', now, job .. ':' .. s)
    end
    redis.call('HSET', KEYS[1], 'p' .. s, ps)
  end
  if ps == 'sent' or ps == 'unknown' or h['r' .. s] then begun = true end
  if not final(ps) then open = true end
end
if not open then
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  redis.call('HSET', KEYS[1], 'state', 'done', 'owner', h.owner)
  redis.call('PEXPIRE', KEYS[1], ARGV[10])
  return {'done', ''}
end
if begun and h.begun_on ~= '' and h.begun_on ~= modem then
  local lane = 'm:' .. h.begun_on
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  local e = redis.call('XADD', prefix .. 'lane:' .. lane, '*', 'job', job)
  redis.call('HSET', KEYS[1], 'state', 'queued', 'owner', '', 'lane', lane, 'entry', e, 'lease_until', 0)
  redis.call('SADD', prefix .. 'lanes', lane)
  return {'relaned', lane}
end
redis.call('HSET', KEYS[1], 'state', 'leased', 'owner', host, 'modem', modem,
           'lease_until', now + tonumber(ARGV[3]))
return {'taken', h.owner}
"""

# Just before AT+CMGS of part seq. KEYS: job; ARGV: host, seq, modem, lease ms. 1: go on; 0: not ours
# (another host owns it, or it is done: a takeover found nothing left to send).
FENCE = _NOW + """
local owner, begun, state = unpack(redis.call('HMGET', KEYS[1], 'owner', 'begun_on', 'state'))
if owner ~= ARGV[1] or state ~= 'leased' then return 0 end
redis.call('HSET', KEYS[1], 'p' .. ARGV[2], 'sending', 'lease_until', now + tonumber(ARGV[4]))
if begun == '' then redis.call('HSET', KEYS[1], 'begun_on', ARGV[3]) end
return 1
"""

# Part states from the host that sent them. KEYS: job; ARGV: host, prefix, group, done ttl, job id, then
# (seq, state) pairs. A final state wins over anything but another final one (an `unknown` set by a host
# that took the job over still becomes `sent` when the host that sent it reports); `queued` (a retry) only
# from the owner of a part it had marked sending. A job whose parts are all final leaves its stream.
REPORT = _NOW + _HASH + """
local host, prefix, group, job = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local h = hash(KEYS[1])
if not h.state then return 0 end
for i = 6, #ARGV, 2 do
  local field, state = 'p' .. ARGV[i], ARGV[i + 1]
  local cur = h[field]
  if final(state) then
    if cur ~= 'sent' and cur ~= 'failed' and cur ~= state then
      redis.call('HSET', KEYS[1], field, state)
      h[field] = state
      if state == 'unknown' then redis.call('ZADD', prefix .. 'unknown', now, job .. ':' .. ARGV[i]) end
      if cur == 'unknown' then redis.call('ZREM', prefix .. 'unknown', job .. ':' .. ARGV[i]) end
    end
  elseif state == 'queued' and cur == 'sending' and h.owner == host then
    redis.call('HSET', KEYS[1], field, 'queued')
    h[field] = 'queued'
  end
end
if h.state ~= 'done' then
  for s = 1, tonumber(h.parts) do
    if not final(h['p' .. s]) then return 1 end
  end
  local stream = prefix .. 'lane:' .. h.lane
  redis.call('XACK', stream, group, h.entry)
  redis.call('XDEL', stream, h.entry)
  redis.call('HSET', KEYS[1], 'state', 'done')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
"""

# KEYS: jobs; ARGV: host, lease ms, prefix, group. Extends this host's leases (the stream entry's idle time
# too); returns the 1-based indexes of the jobs another host owns now.
RENEW = _NOW + """
local lost = {}
for i, key in ipairs(KEYS) do
  local owner, state, lane, entry = unpack(redis.call('HMGET', key, 'owner', 'state', 'lane', 'entry'))
  if owner ~= ARGV[1] then
    table.insert(lost, i)
  elseif state == 'leased' then
    redis.call('HSET', key, 'lease_until', now + tonumber(ARGV[2]))
    redis.call('XCLAIM', ARGV[3] .. 'lane:' .. lane, ARGV[4], ARGV[1], 0, entry, 'JUSTID')
  end
end
return lost
"""

# KEYS: jobs; ARGV: host, prefix, group. Jobs this host holds go back to the end of their lane.
RELEASE = """
for _, key in ipairs(KEYS) do
  local owner, state, lane, entry = unpack(redis.call('HMGET', key, 'owner', 'state', 'lane', 'entry'))
  if owner == ARGV[1] and state == 'leased' then
    local stream = ARGV[2] .. 'lane:' .. lane
    redis.call('XACK', stream, ARGV[3], entry)
    redis.call('XDEL', stream, entry)
    local job = string.sub(key, string.len(ARGV[2]) + 5)
    local e = redis.call('XADD', stream, '*', 'job', job)
    redis.call('HSET', key, 'state', 'queued', 'owner', '', 'entry', e, 'lease_until', 0)
  end
end
return #KEYS
"""

# ARGV: prefix, host, status JSON, then the host's modem ids. Returns every modem id of the fleet.
HEARTBEAT = _NOW + """
local prefix, host = ARGV[1], ARGV[2]
redis.call('HSET', prefix .. 'hosts', host, ARGV[3])
redis.call('HSET', prefix .. 'seen', host, now)
for i = 4, #ARGV do redis.call('HSET', prefix .. 'modems', ARGV[i], host) end
return redis.call('HKEYS', prefix .. 'modems')
"""
