-- wrk: print one machine-readable summary line. With TOKEN set, send it as a bearer token; with KEYS set
-- (comma-separated), send one of them at random with each request (many guilds' keys).
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local keys = {}
for key in string.gmatch(os.getenv("KEYS") or "", "[^,]+") do table.insert(keys, key) end
if #keys > 0 then
  request = function()
    return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. keys[math.random(#keys)] })
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT req_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d non2xx=%d sock_err=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
