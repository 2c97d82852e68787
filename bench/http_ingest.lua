-- wrk script for the NDJSON ingest benchmark (scripts/bench-http.sh): every request POSTs the
-- same body of JSON lines to /api/v1/audit/records over the connection's keep-alive. A 200
-- answer means its records are committed; the summary line gives the counts the script turns
-- into records per second.
--
--   wrk -t1 -c1 -d20s -s bench/http_ingest.lua URL -- BODY_FILE TOKEN

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-ndjson"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

local shown = 0

function response(status, headers, body)
  if status ~= 200 and shown < 3 then
    shown = shown + 1
    io.stderr:write("ingest answered " .. status .. ": " .. body .. "\n")
  end
end

function done(summary, latency, requests)
  io.write(string.format("INGEST requests=%d non2xx=%d seconds=%.3f\n", summary.requests,
                         summary.errors.status, summary.duration / 1e6))
end
