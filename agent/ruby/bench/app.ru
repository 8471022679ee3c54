# frozen_string_literal: true

# The capture benchmark's app: a worker holding HEAPSIFT_BENCH_HASHES
# Hashes (2M: about 4M live objects with their strings), answering each
# request with a few small allocations.
HELD = Array.new(Integer(ENV.fetch("HEAPSIFT_BENCH_HASHES", "2000000"))) { |i| { id: i, name: "item #{i}" } }

run ->(_env) { [200, { "content-type" => "text/plain" }, ["#{HELD.size}\n"]] }
