-- make bench's request generator for wrk (see bench/load.py).
-- Arguments after "--": mode (get, page or post), highest seeded id, run tag.
-- "get" asks for random ids, "post" sends employees with unique emails;
-- every thread seeds its own generator, so both servers see the same ids.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  mode, max_id, tag = args[1], tonumber(args[2]), args[3]
  math.randomseed(1000 + (thread_number or 0))
  sent = 0
end

function request()
  sent = sent + 1
  if mode == "get" then
    return wrk.format("GET", wrk.path .. math.random(1, max_id))
  elseif mode == "post" then
    local body = string.format(
      '{"first_name": "Bench", "last_name": "Load %d", ' ..
      '"email": "%s-%d-%d@bench.example.com", "title": "Engineer", ' ..
      '"hire_date": "2024-03-01", "salary": "5123.45", "department_id": 1}',
      sent, tag, thread_number or 0, sent)
    return wrk.format("POST", wrk.path, nil, body)
  end
  return wrk.format("GET", wrk.path)
end
