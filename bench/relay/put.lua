-- wrk script: PUT /<key> with pre-signed relay payloads of distinct keys, read from a file of "z32 hex" lines; each
-- wrk thread takes every T-th line, so no key is sent twice while the file lasts (a thread that runs out starts
-- its share again and counts the repeats). Prints one JSON line at the end.
--   wrk -t2 -c16 -d10s -s bench/relay/put.lua http://127.0.0.1:PORT -- PAYLOADS_FILE 2      (2 = the -t count)
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  threads[#threads + 1] = thread
  counter = counter + 1
end

local items = {}
local next_item = 1
repeats = 0
-- 204s whose Pkarr-Dht-Stored-Nodes is at least 1 (the DHT put reached a node), and every other answer.
stored = 0
other = 0

local function unhex(h)
  return (h:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
end

function init(args)
  -- A thread's Lua state does not see the others: the thread count comes as args[2], the thread's number (1..T)
  -- as the global `id` that setup() set.
  local file, tcount, tid = args[1], tonumber(args[2]), id
  local n = 0
  for line in io.lines(file) do
    n = n + 1
    if (n - 1) % tcount == tid - 1 then
      local key, payload = line:match("^(%S+) (%x+)$")
      items[#items + 1] = { path = "/" .. key, body = unhex(payload) }
    end
  end
end

function request()
  local item = items[next_item]
  next_item = next_item + 1
  if next_item > #items then
    next_item = 1
    repeats = repeats + 1
  end
  return wrk.format("PUT", item.path, nil, item.body)
end

function response(status, headers, body)
  local nodes = tonumber(headers["Pkarr-Dht-Stored-Nodes"] or headers["pkarr-dht-stored-nodes"] or "0")
  if status == 204 and nodes and nodes >= 1 then stored = stored + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local wrapped, ok, bad = 0, 0, 0
  for _, t in ipairs(threads) do
    wrapped = wrapped + (t:get("repeats") or 0)
    ok = ok + (t:get("stored") or 0)
    bad = bad + (t:get("other") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"wrk":true,"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"wrapped":%d,"stored":%d,"other":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, wrapped, ok, bad,
    e.connect, e.read, e.write, e.status, e.timeout))
end
