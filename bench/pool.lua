-- wrk script for bench/steps.py: each request is one prepared item (its path, cookie, body
-- and extra headers), taken in turn by each thread from its share of a tab-separated file.
--
--   wrk ... -s pool.lua URL -- METHOD STATUS LOCATION BODY_MARK ROTATE FILE
--
-- ROTATE=1 cycles over the items (reads: a page shown again changes nothing); ROTATE=0 sends
-- each item once and stops the thread when its share is used (a state change per request).
-- Every response is checked (status, Location or HX-Redirect containing LOCATION, body
-- containing BODY_MARK); the rate is the responses over the time from the first request to
-- the last response, measured here (wrk's own rate counts the whole -d duration).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

items = {}
nxt = 1
got, bad, first, last = 0, 0, 0, 0
badinfo = ""

function init(args)
  method, expect_status, expect_location, expect_body = args[1], tonumber(args[2]), args[3], args[4]
  rotate = args[5] == "1"
  local share = tonumber(args[7])
  local i = 0
  for line in io.lines(args[6]) do
    -- Reads: every thread cycles over all items; state changes: each its own share.
    if rotate or i % share == tid then
      local path, cookie, body, extra = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
      local headers = {}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if body ~= "" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
      for name, value in extra:gmatch("([^|:]+):%s*([^|]*)") do headers[name] = value end
      table.insert(items, { path = path, headers = headers, body = body ~= "" and body or nil })
    end
    i = i + 1
  end
end

function request()
  if first == 0 then first = now() end
  local item = items[nxt]
  if item == nil then
    if rotate then
      nxt, item = 1, items[1]
    else
      -- This thread's share is used: stop before this placeholder's answer is read.
      wrk.thread:stop()
      return wrk.format("GET", "/healthz")
    end
  end
  nxt = nxt + 1
  return wrk.format(method, item.path, item.headers, item.body)
end

function response(status, headers, body)
  got = got + 1
  last = now()
  local location = headers["Location"] or headers["HX-Redirect"] or ""
  local ok = status == expect_status
    and (expect_location == "" or location:find(expect_location, 1, true) ~= nil)
    and (expect_body == "" or (body ~= nil and body:find(expect_body, 1, true) ~= nil))
  if not ok then
    bad = bad + 1
    if badinfo == "" then badinfo = status .. " " .. location end
  end
  if not rotate and got >= #items then wrk.thread:stop() end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("POOL %d %d %.6f %.6f %s\n", thread:get("got"), thread:get("bad"),
      thread:get("first"), thread:get("last"), thread:get("badinfo")))
  end
end
