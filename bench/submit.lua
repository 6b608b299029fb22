-- wrk script for bench/load.py: POST one pre-made submission per request, never the same one twice.
-- TRIPLES names a file of "path<TAB>cookie<TAB>body" lines; thread i of THREADS takes lines i, i+THREADS, ...
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("THREADS"))
  items = {}
  local i = 0
  for line in io.lines(os.getenv("TRIPLES")) do
    if i % nthreads == id then
      local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(items, {path, cookie, body})
    end
    i = i + 1
  end
  pos = 0
  ok = 0
  exhausted = 0
  -- PAUSE_MS: each connection (one respondent) waits about this long after an answer before submitting again,
  -- drawn uniformly from 0.5 to 1.5 times it so that respondents do not march in step. Unset: back to back.
  pause = tonumber(os.getenv("PAUSE_MS") or "0")
end

function delay()
  if pause == 0 then return 0 end
  return math.floor(pause * (0.5 + math.random()))
end

function request()
  pos = pos + 1
  local item = items[pos]
  if item == nil then
    -- Out of submissions: count it (the run is then invalid) and send something harmless.
    exhausted = exhausted + 1
    return wrk.format("GET", "/bench-exhausted")
  end
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if item[2] ~= "" then headers["Cookie"] = item[2] end
  return wrk.format("POST", item[1], headers, item[3])
end

function response(status, headers, body)
  if status == 201 or status == 303 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local succeeded, exhausted_total = 0, 0
  for _, thread in ipairs(threads) do
    succeeded = succeeded + thread:get("ok")
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "succeeded": %d, "exhausted": %d, "status_errors": %d, '
    .. '"socket_errors": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration, succeeded, exhausted_total, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
