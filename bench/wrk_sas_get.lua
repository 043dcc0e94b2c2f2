-- wrk script for scripts/bench_lake.sh: GET requests rotating over SAS-signed blob URLs, one
-- request target per line of the file given after "--" (written by bench/sdk_bench.py sas).
-- wrk counts an answer of status 400 or more as an error (errors.status). At the end it prints one JSON line (prefixed "WRK_JSON ") with the figures the report reads.
--   wrk -t2 -c16 -d10s -s bench/wrk_sas_get.lua http://127.0.0.1:PORT -- targets.txt
local targets = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then targets[#targets + 1] = line end
  end
  -- Threads start at different offsets, so that they do not read the same blob in step.
  next_index = math.random(#targets) - 1
end

function request()
  next_index = next_index % #targets + 1
  return wrk.format("GET", targets[next_index])
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    'WRK_JSON {"bench":"wrk-sas-get","requests":%d,"seconds":%.3f,"ops_s":%.1f,' ..
    '"p50_ms":%.3f,"p99_ms":%.3f,"errors":%d,"non_2xx":%d,"ok":%s}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, e.status,
    tostring(errors == 0 and summary.requests > 0)))
end
