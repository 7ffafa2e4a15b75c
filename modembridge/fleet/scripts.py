"""The Lua scripts that make each step of the shared queue one atomic operation on the Redis server.

Every script reads the time from the server (``TIME``), so hosts whose clocks disagree still agree on
leases, and every script may run twice (the client retries a command once after a connection error).
Keys (prefix ``mb:<group>:``):

- ``lane:<lane>``: a stream per lane (``any``; ``m:<modem>`` for jobs only that modem may take), read by
  the consumer group ``<group>`` with one consumer per host;
- ``job:<id>``: a small hash per job: ``state`` queued | leased | done; ``owner`` (host), ``modem`` and
  ``lease_until`` (ms); ``lane`` and ``entry``, its current stream entry; ``parts``; ``p<seq>`` each part's
  state (queued | sending | sent | failed | unknown); ``r<seq>`` set when a part was queued again after an
  unknown; ``a<seq>`` its fenced attempts; ``begun_on``, the modem that wrote its first AT+CMGS;
  ``expires`` (ms, or empty); ``instance``, the holder's process (a host restarted after a crash adopts
  its jobs only once its start check passed; a second process under the same host id never can);
- ``data:<id>``: the job itself as JSON (PDUs, text, settings), deleted when the job is done;
- ``cid:<client id>``; ``lanes`` (a set); ``unknown`` (a sorted set of ``<job>:<seq>`` by time);
  ``hosts``, ``seen``, ``instance`` and ``modems`` (hashes written by the heartbeats).
"""

from __future__ import annotations

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# hash(key): the job's fields as a table; final(state); finish(...): the job leaves its stream;
# settle(...): parts a lost holder had marked `sending` get the unknown policy; returns begun, open.
_JOB = """
local function hash(key)
  local flat = redis.call('HGETALL', key)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end
local function final(s) return s == 'sent' or s == 'failed' or s == 'unknown' end
local function finish(key, prefix, job, stream, group, entry, ttl)
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  redis.call('HSET', key, 'state', 'done')
  redis.call('PEXPIRE', key, ttl)
  redis.call('DEL', prefix .. 'data:' .. job)
end
local function settle(key, h, policy, prefix, job, now)
  local begun, open = false, false
  for s = 1, tonumber(h.parts) do
    local ps = h['p' .. s]
    if ps == 'sending' then  -- its holder was inside AT+CMGS (or had not reported the answer)
      if policy == 'resend' then
        ps = 'queued'
        redis.call('HSET', key, 'r' .. s, '1')
        h['r' .. s] = '1'
      else
        ps = 'unknown'
        redis.call('ZADD', prefix .. 'unknown', now, job .. ':' .. s)
      end
      redis.call('HSET', key, 'p' .. s, ps)
      h['p' .. s] = ps
    end
    if ps == 'sent' or ps == 'unknown' or h['r' .. s] then begun = true end
    if not final(ps) then open = true end
  end
  return begun, open
end
"""

# KEYS: [cid key]; ARGV: prefix, cid record, cid ttl, n, then n x (job id, lane, data, parts, expires ms).
# Returns the earlier cid record when the client id is taken (nothing written), else nil. A job that
# exists already (this script ran before and its answer was lost) is left as it is.
SUBMIT = _NOW + """
local prefix = ARGV[1]
if #KEYS == 1 then
  local prev = redis.call('GET', KEYS[1])
  if prev then return prev end
end
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  local job, lane, data = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local parts, expires = tonumber(ARGV[i + 3]), ARGV[i + 4]
  i = i + 5
  local key = prefix .. 'job:' .. job
  if redis.call('EXISTS', key) == 0 then
    local entry = redis.call('XADD', prefix .. 'lane:' .. lane, '*', 'job', job)
    redis.call('SET', prefix .. 'data:' .. job, data)
    redis.call('HSET', key, 'state', 'queued', 'lane', lane, 'entry', entry, 'parts', parts, 'owner', '',
               'modem', '', 'begun_on', '', 'lease_until', 0, 'created', now, 'expires', expires)
    for s = 1, parts do redis.call('HSET', key, 'p' .. s, 'queued') end
    redis.call('SADD', prefix .. 'lanes', lane)
  end
end
if #KEYS == 1 then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return false
"""

# A job's stream entry was just delivered to this host (XREADGROUP): lease it to the modem.
# KEYS: job; ARGV: host, modem, lease ms, stream, group, entry, unknown policy, prefix, job id, done ttl,
# instance. Returns 1, or 0 for a stale entry or a job with nothing left to send.
CLAIM = _NOW + _JOB + """
local host, stream, group, entry, prefix, job = ARGV[1], ARGV[4], ARGV[5], ARGV[6], ARGV[8], ARGV[9]
local h = hash(KEYS[1])
if (not h.state) or h.state == 'done' or h.entry ~= entry then
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  return 0
end
local begun, open = settle(KEYS[1], h, ARGV[7], prefix, job, now)
if not open then
  finish(KEYS[1], prefix, job, stream, group, entry, ARGV[10])
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'leased', 'owner', host, 'modem', ARGV[2],
           'lease_until', now + tonumber(ARGV[3]), 'instance', ARGV[11])
return 1
"""

# An entry idle for at least a lease (XPENDING IDLE): take the job over if its lease expired.
# KEYS: job; ARGV: host, modem, lease ms, stream, group, entry, unknown policy, prefix, job id, done ttl,
# instance. Returns {verdict, detail, modem}: taken (detail: the previous owner; modem: the modem that takes
# it, the same one when the job was this host's own), busy (no longer idle), held (its owner renewed: given
# back), gone (stale entry), done (every part was final), relaned (the lane of the modem that began it).
TAKEOVER = _NOW + _JOB + """
local host, modem, stream, group, entry = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local prefix, job = ARGV[8], ARGV[9]
if #redis.call('XCLAIM', stream, group, host, ARGV[3], entry, 'JUSTID') == 0 then
  return {'busy', '', ''}
end
local h = hash(KEYS[1])
if (not h.state) or h.state == 'done' or h.entry ~= entry then
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  return {'gone', '', ''}
end
if h.state == 'leased' and h.owner ~= host and tonumber(h.lease_until) > now then
  redis.call('XCLAIM', stream, group, h.owner, 0, entry, 'JUSTID')
  return {'held', h.owner, ''}
end
local begun, open = settle(KEYS[1], h, ARGV[7], prefix, job, now)
if not open then
  finish(KEYS[1], prefix, job, stream, group, entry, ARGV[10])
  return {'done', '', ''}
end
if h.state == 'leased' and h.owner == host and h.modem ~= '' then
  modem = h.modem  -- this host's own job (it restarted, or Redis was away): it stays on its modem
elseif begun and h.begun_on ~= '' and h.begun_on ~= modem then
  local lane = 'm:' .. h.begun_on
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
  local e = redis.call('XADD', prefix .. 'lane:' .. lane, '*', 'job', job)
  redis.call('HSET', KEYS[1], 'state', 'queued', 'owner', '', 'lane', lane, 'entry', e, 'lease_until', 0)
  redis.call('SADD', prefix .. 'lanes', lane)
  return {'relaned', lane, ''}
end
redis.call('HSET', KEYS[1], 'state', 'leased', 'owner', host, 'modem', modem,
           'lease_until', now + tonumber(ARGV[3]), 'instance', ARGV[11])
return {'taken', h.owner, modem}
"""

# Just before AT+CMGS of part seq. KEYS: job; ARGV: host, seq, modem, lease ms, instance, prefix, group.
# Returns the attempt number (1, 2, ...): go on; 0: do not send (another host or process holds it, it is
# done, the part is not waiting to be sent, or another modem began the job). Resets the entry's idle time,
# as a renewal does.
FENCE = _NOW + """
local owner, state, begun, part, instance, lane, entry = unpack(redis.call('HMGET', KEYS[1], 'owner',
    'state', 'begun_on', 'p' .. ARGV[2], 'instance', 'lane', 'entry'))
if owner ~= ARGV[1] or state ~= 'leased' or instance ~= ARGV[5] then return 0 end
if part ~= 'queued' and part ~= 'sending' then return 0 end
if begun ~= '' and begun ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'p' .. ARGV[2], 'sending', 'modem', ARGV[3], 'begun_on', ARGV[3],
           'lease_until', now + tonumber(ARGV[4]))
redis.call('XCLAIM', ARGV[6] .. 'lane:' .. lane, ARGV[7], ARGV[1], 0, entry, 'JUSTID')
return redis.call('HINCRBY', KEYS[1], 'a' .. ARGV[2], 1)
"""

# Part states from the host that sent them. KEYS: job; ARGV: host, prefix, group, done ttl, job id, then
# (seq, state, resent, attempt) quadruples. A final state wins over anything but another final one (an
# `unknown` set by a host that took the job over still becomes `sent` when the host that sent it
# reports); `queued` (a retry) only from the owner of a part it had marked sending, for the attempt it
# fenced last (a late copy of an older report cannot undo a newer fence), flagged when the AT+CMGS may
# have gone out.
# A job none of whose parts is (maybe) out is not begun any more: it may go to another modem. A job whose
# parts are all final leaves its stream.
REPORT = _NOW + _JOB + """
local host, prefix, group, job = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local h = hash(KEYS[1])
if not h.state then return 0 end
for i = 6, #ARGV, 4 do
  local field, state = 'p' .. ARGV[i], ARGV[i + 1]
  local cur = h[field]
  if final(state) then
    if cur ~= 'sent' and cur ~= 'failed' and cur ~= state then
      redis.call('HSET', KEYS[1], field, state)
      h[field] = state
      if state == 'unknown' then redis.call('ZADD', prefix .. 'unknown', now, job .. ':' .. ARGV[i]) end
      if cur == 'unknown' then redis.call('ZREM', prefix .. 'unknown', job .. ':' .. ARGV[i]) end
    end
  elseif state == 'queued' and cur == 'sending' and h.owner == host
      and tonumber(h['a' .. ARGV[i]] or '0') == tonumber(ARGV[i + 3]) then
    redis.call('HSET', KEYS[1], field, 'queued')
    h[field] = 'queued'
    if ARGV[i + 2] == '1' then
      redis.call('HSET', KEYS[1], 'r' .. ARGV[i], '1')
      h['r' .. ARGV[i]] = '1'
    end
  end
end
if h.state ~= 'done' then
  local open, begun = false, false
  for s = 1, tonumber(h.parts) do
    local ps = h['p' .. s]
    if not final(ps) then open = true end
    if ps == 'sent' or ps == 'unknown' or ps == 'sending' or h['r' .. s] then begun = true end
  end
  if not open then
    finish(KEYS[1], prefix, job, prefix .. 'lane:' .. h.lane, group, h.entry, ARGV[4])
  elseif not begun and h.begun_on ~= '' then
    redis.call('HSET', KEYS[1], 'begun_on', '')
  end
end
return 1
"""

# KEYS: jobs; ARGV: host, lease ms, prefix, group, instance. Extends this host's leases (the stream entry's
# idle time too) for this process (a restart adopts its jobs); returns the 1-based indexes of the jobs it
# does not hold any more (another host took them over, or they are done).
RENEW = _NOW + """
local lost = {}
for i, key in ipairs(KEYS) do
  local owner, state, lane, entry = unpack(redis.call('HMGET', key, 'owner', 'state', 'lane', 'entry'))
  if owner ~= ARGV[1] or state ~= 'leased' then
    table.insert(lost, i)
  else
    redis.call('HSET', key, 'lease_until', now + tonumber(ARGV[2]), 'instance', ARGV[5])
    redis.call('XCLAIM', ARGV[3] .. 'lane:' .. lane, ARGV[4], ARGV[1], 0, entry, 'JUSTID')
  end
end
return lost
"""

# KEYS: jobs; ARGV: host, prefix, group. Jobs this host holds and has not begun (no part sending, sent,
# unknown or resent: queued or failed for good) go back to the end of their lane; returns the 1-based
# indexes of those given back.
RELEASE = """
local back = {}
for i, key in ipairs(KEYS) do
  local owner, state, lane, entry, begun, parts = unpack(redis.call('HMGET', key, 'owner', 'state', 'lane',
                                                                    'entry', 'begun_on', 'parts'))
  local untouched = owner == ARGV[1] and state == 'leased' and begun == ''
  if untouched then
    for s = 1, tonumber(parts) do
      local ps = redis.call('HGET', key, 'p' .. s)
      if (ps ~= 'queued' and ps ~= 'failed') or redis.call('HEXISTS', key, 'r' .. s) == 1 then
        untouched = false
      end
    end
  end
  if untouched then
    local stream = ARGV[2] .. 'lane:' .. lane
    redis.call('XACK', stream, ARGV[3], entry)
    redis.call('XDEL', stream, entry)
    local job = string.sub(key, string.len(ARGV[2]) + 5)
    local e = redis.call('XADD', stream, '*', 'job', job)
    redis.call('HSET', key, 'state', 'queued', 'owner', '', 'entry', e, 'lease_until', 0)
    table.insert(back, i)
  end
end
return back
"""

# ARGV: prefix, host, status JSON, lease ms, instance, then the host's modem ids. Returns the modem ids of
# the hosts alive (a heartbeat within a lease): the modems a send may be pinned to; or {'conflict'} when
# another process heartbeated under this host id within a lease (nothing written).
HEARTBEAT = _NOW + """
local prefix, host, lease = ARGV[1], ARGV[2], tonumber(ARGV[4])
local other = redis.call('HGET', prefix .. 'instance', host)
local last = tonumber(redis.call('HGET', prefix .. 'seen', host) or '0')
if other and other ~= ARGV[5] and last >= now - lease then return {'conflict'} end
redis.call('HSET', prefix .. 'hosts', host, ARGV[3])
redis.call('HSET', prefix .. 'seen', host, now)
redis.call('HSET', prefix .. 'instance', host, ARGV[5])
for i = 6, #ARGV do redis.call('HSET', prefix .. 'modems', ARGV[i], host) end
local flat = redis.call('HGETALL', prefix .. 'modems')
local alive = {}
for i = 1, #flat, 2 do
  local seen = tonumber(redis.call('HGET', prefix .. 'seen', flat[i + 1]) or '0')
  if seen >= now - lease then table.insert(alive, flat[i]) end
end
return alive
"""

# Housekeeping any host may run. ARGV: prefix, group, lane, count, done ttl, unknown memory ms. Queued jobs
# of the lane past their expiry that no modem began fail ('expired'), as on one host; returns how many.
REAP = _NOW + _JOB + """
local prefix, group, lane = ARGV[1], ARGV[2], ARGV[3]
local stream = prefix .. 'lane:' .. lane
local n = 0
for _, e in ipairs(redis.call('XRANGE', stream, '-', '+', 'COUNT', tonumber(ARGV[4]))) do
  local job = e[2][2]
  local key = prefix .. 'job:' .. job
  local state, expires, begun, parts, entry = unpack(redis.call('HMGET', key, 'state', 'expires', 'begun_on',
                                                                'parts', 'entry'))
  if state == 'queued' and entry == e[1] and expires and expires ~= '' and tonumber(expires) < now
      and begun == '' then
    for s = 1, tonumber(parts) do
      if redis.call('HGET', key, 'p' .. s) == 'queued' then redis.call('HSET', key, 'p' .. s, 'failed') end
    end
    redis.call('HSET', key, 'expired', '1')
    finish(key, prefix, job, stream, group, e[1], ARGV[5])
    n = n + 1
  end
end
redis.call('ZREMRANGEBYSCORE', prefix .. 'unknown', '-inf', now - tonumber(ARGV[6]))
return n
"""
