-- Sign-in storm: each request signs in as a different seeded account
-- (the same formula as `roster seed`), so no account's throttle is involved.
dofile("bench/wrk/report.lua")
local first = { "ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "john", "margaret", "ken",
  "radia", "leslie", "tim", "sophie", "niklaus", "hedy" }
local last = { "lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "allen", "backus", "hamilton",
  "thompson", "perlman", "lamport", "berners", "wilson", "wirth", "lamarr" }
local threads = 0
local password = os.getenv("ROSTER_SEED_PASSWORD") or "seeded password 123"
local users = tonumber(os.getenv("BENCH_USERS") or "1000000")

setup = function(thread)
  threads = threads + 1
  thread:set("offset", threads * 100000)
end

local n = 0
request = function()
  n = n + 1
  local k = (offset + n) % users + 1
  local email = string.format("%s.%s.%d@seed.example.com", first[k % 16 + 1], last[math.floor(k / 16) % 16 + 1], k)
  local body = string.format('{"email":"%s","password":"%s"}', email, password)
  return wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" }, body)
end
