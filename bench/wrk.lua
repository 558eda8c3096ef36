-- make bench's request generator for wrk (see bench/load.py).
-- Arguments after "--": mode (get, page, post or patch), highest seeded id,
-- run tag. "get" asks for random ids, "post" sends employees with unique
-- emails, "patch" changes the title of random ids (writes that collide when
-- the ids are few: bench/scaling.py's Galera conflicts);
-- every thread seeds its own generator, so both servers see the same ids.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  -- The ids: "N" means 1..N; "3,6,9" lists them (Galera spaces its ids).
  mode, tag = args[1], args[3]
  ids = {}
  for id in string.gmatch(args[2], "%d+") do ids[#ids + 1] = tonumber(id) end
  math.randomseed(1000 + (thread_number or 0))
  sent = 0
end

function pick()
  if #ids == 1 then return math.random(1, ids[1]) end
  return ids[math.random(1, #ids)]
end

function request()
  sent = sent + 1
  if mode == "get" then
    return wrk.format("GET", wrk.path .. pick())
  elseif mode == "post" then
    local body = string.format(
      '{"first_name": "Bench", "last_name": "Load %d", ' ..
      '"email": "%s-%d-%d@bench.example.com", "title": "Engineer", ' ..
      '"hire_date": "2024-03-01", "salary": "5123.45", "department_id": 1}',
      sent, tag, thread_number or 0, sent)
    return wrk.format("POST", wrk.path, nil, body)
  elseif mode == "patch" then
    local body = string.format('{"title": "Load %s %d"}', tag, sent)
    return wrk.format("PATCH", wrk.path .. pick(), nil, body)
  end
  return wrk.format("GET", wrk.path)
end
