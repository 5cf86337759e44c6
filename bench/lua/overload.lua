-- POST /api/v1/requests as in post.lua, counting the answers by status (201, 429, 503, other), for
-- bench/overload.py. Each wrk thread counts its own; done() adds them up.
-- wrk ... -s bench/lua/overload.lua URL
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "post.lua")

local threads = {}
local post_done = done

function setup(thread)
   table.insert(threads, thread)
end

c201, c429, c503, cother = 0, 0, 0, 0

function response(status, headers, body)
   if status == 201 then c201 = c201 + 1
   elseif status == 503 then c503 = c503 + 1
   elseif status == 429 then c429 = c429 + 1
   else cother = cother + 1 end
end

function done(summary, latency, requests)
   local t = { c201 = 0, c429 = 0, c503 = 0, cother = 0 }
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
   end
   io.write(string.format("BENCH_STATUS {\"201\":%d,\"429\":%d,\"503\":%d,\"other\":%d}\n",
                          t.c201, t.c429, t.c503, t.cother))
   post_done(summary, latency, requests)
end
