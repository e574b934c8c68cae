-- wrk script: GET /<key> for keys picked at random among the first N lines of a keys file (one z-base-32 key per
-- line), optionally with an If-Modified-Since header (the 304 runs). Prints one JSON line at the end.
--   wrk -t2 -c64 -d10s -s bench/relay/get.lua http://127.0.0.1:PORT -- KEYS_FILE N [IF_MODIFIED_SINCE]
local keys = {}
local headers = {}

function init(args)
  local file, count, since = args[1], tonumber(args[2]), args[3]
  for line in io.lines(file) do
    if #keys >= count then break end
    keys[#keys + 1] = line
  end
  if #keys < count then error("keys file " .. file .. " has " .. #keys .. " keys, not " .. count) end
  if since and since ~= "" then headers["If-Modified-Since"] = since end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
  return wrk.format("GET", "/" .. keys[math.random(#keys)], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk":true,"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
