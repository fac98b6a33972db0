-- wrk: the ticket list under writes. Every SEND_EVERY-th request of each thread (default 21: one message for every
-- 20 list reads) posts a message to the next of TICKET_IDS (comma-separated, open tickets), the rest read
-- GET /api/tickets?status=all; all as API_TOKEN. Prints one WRKRESULT line for all requests together.
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("API_TOKEN"), "API_TOKEN is not set")
wrk.headers["Content-Type"] = "application/json"

local ids = {}
for id in string.gmatch(os.getenv("TICKET_IDS") or "", "[^,]+") do table.insert(ids, id) end
assert(#ids > 0, "TICKET_IDS is not set")
local every = tonumber(os.getenv("SEND_EVERY") or "21")
local count, sends = 0, 0

request = function()
  count = count + 1
  if count % every == 0 then
    sends = sends + 1
    local id = ids[(sends * 7 + math.random(#ids)) % #ids + 1]
    return wrk.format("POST", "/api/tickets/" .. id .. "/send", nil, '{"message":"mixed load message ' .. sends .. '"}')
  end
  return wrk.format("GET", "/api/tickets?status=all")
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT req_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d non2xx=%d sock_err=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
