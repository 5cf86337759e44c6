-- POST /api/v1/requests: a billingInquiry per request, cycling over the demo customers
-- CUST-000004..CUST-001000 and their accounts BA-000004..BA-001000. No Idempotency-Key, so
-- every POST creates (and journals) a new request.
-- wrk ... -s bench/lua/post.lua URL
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")

local FIRST, LAST = 4, 1000
local n = FIRST
local headers = { ["Content-Type"] = "application/json" }
local template = '{"requestType":"billingInquiry","direction":"inbound","channel":"web",' ..
   '"relatedParty":[{"id":"CUST-%06d","role":"customer"}],"characteristics":{"billingAccountId":"BA-%06d"}}'

function init(args)
   n = FIRST + math.random(LAST - FIRST + 1) - 1
   for name, value in pairs(wrk.headers) do  -- -H "Authorization: Bearer ..." from bench/run.py
      headers[name] = headers[name] or value
   end
end

function request()
   n = n + 1
   if n > LAST then n = FIRST end
   return wrk.format("POST", "/api/v1/requests", headers, string.format(template, n, n))
end

function done(summary, latency, requests)
   bench_report(summary, latency)
end
