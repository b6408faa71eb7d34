-- wrk script for bench/run.sh: POST a realistic chat request.
--
-- Environment (all optional):
--   SY_BENCH_PROTOCOL   "openai" (default): an openai-SDK-shaped chat
--                       completion, "Authorization: Bearer <key>";
--                       "anthropic": an Anthropic-SDK-shaped /v1/messages
--                       request, "x-api-key: <key>" and
--                       "anthropic-version: 2023-06-01"
--   SY_BENCH_BODY_FILE  file with the JSON body (default: the body below for
--                       the protocol)
--   SY_BENCH_KEY        client key
-- run.sh writes the bodies it uses (non-streaming "bench", streaming
-- "chunks-50" with "stream":true, in each protocol's shape) and points
-- SY_BENCH_BODY_FILE at them, so wrk, h2load and the probes all send the
-- same bytes. The URL (and so the path) is wrk's argument.

local protocol = os.getenv("SY_BENCH_PROTOCOL") or "openai"
if protocol == "" then protocol = "openai" end
assert(protocol == "openai" or protocol == "anthropic",
       "SY_BENCH_PROTOCOL must be openai or anthropic, not " .. protocol)

local body
if protocol == "anthropic" then
  body = [[{"model":"bench","max_tokens":128,"system":"You are a concise assistant for a freight logistics team.","messages":[{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7}]]
else
  body = [[{"model":"bench","messages":[{"role":"system","content":"You are a concise assistant for a freight logistics team."},{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7,"max_tokens":128,"user":"bench-client-01"}]]
end

local path = os.getenv("SY_BENCH_BODY_FILE")
if path and path ~= "" then
  local f = assert(io.open(path, "rb"))
  body = f:read("*a"):gsub("%s+$", "")
  f:close()
end

local key = os.getenv("SY_BENCH_KEY") or "sk-bench-client"

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if protocol == "anthropic" then
  wrk.headers["Accept"] = "application/json"
  wrk.headers["x-api-key"] = key
  wrk.headers["anthropic-version"] = "2023-06-01"
else
  wrk.headers["Accept"] = "application/json, text/event-stream"
  wrk.headers["Authorization"] = "Bearer " .. key
end
