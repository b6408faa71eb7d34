-- wrk script for bench/run.sh: POST a realistic chat completion request.
--
-- Environment (all optional):
--   SY_BENCH_BODY_FILE  file with the JSON body (default: the body below)
--   SY_BENCH_KEY        client key sent as "Authorization: Bearer <key>"
-- run.sh writes the bodies it uses (non-streaming "bench", streaming
-- "chunks-50" with "stream":true) and points SY_BENCH_BODY_FILE at them, so
-- wrk, h2load and the probes all send the same bytes.

local body = [[{"model":"bench","messages":[{"role":"system","content":"You are a concise assistant for a freight logistics team."},{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7,"max_tokens":128,"user":"bench-client-01"}]]

local path = os.getenv("SY_BENCH_BODY_FILE")
if path and path ~= "" then
  local f = assert(io.open(path, "rb"))
  body = f:read("*a"):gsub("%s+$", "")
  f:close()
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SY_BENCH_KEY") or "sk-bench-client")
