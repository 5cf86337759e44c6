-- GET <prefix><id>, the ids taken round-robin from a file (one per line).
-- wrk ... -s bench/lua/get.lua URL -- IDS_FILE PREFIX
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")

local paths, n, i = {}, 0, 0

function init(args)
   local file, prefix = args[1], args[2]
   for line in io.lines(file) do
      if #line > 0 then
         n = n + 1
         paths[n] = prefix .. line
      end
   end
   assert(n > 0, "no ids in " .. file)
   i = math.random(n) - 1  -- each wrk thread starts somewhere else in the list
end

function request()
   i = i % n + 1
   return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
   bench_report(summary, latency)
end
