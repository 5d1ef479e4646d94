-- Round-robin over the space-separated request paths in BENCH_PATHS, so one
-- scenario can mix pages (first page, a deep cursor) or search terms.
dofile("bench/wrk/report.lua")
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  paths[#paths + 1] = p
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
