# frozen_string_literal: true

# Puma as production runs it (the README's snippet): a preloaded app, two
# workers, and the heapsift agent started in each worker. The test sets
# PORT, DYNO, HEAPSIFT_STORE and DATABASE_URL, and HEAPSIFT_DUMP_ABOVE
# (bytes) for the memory trigger.
workers 2
preload_app!
bind "tcp://127.0.0.1:#{ENV.fetch('PORT')}"
rackup File.join(__dir__, "config.ru")

on_worker_boot do
  require "heapsift/agent"
  dump_above = ENV["HEAPSIFT_DUMP_ABOVE"]&.then { |bytes| Integer(bytes) }
  HeapSift::Agent.start(dynos: 1, process_type: "web", store: ENV["HEAPSIFT_STORE"],
                        database_url: ENV["DATABASE_URL"], every: nil, dump_above: dump_above, check_every: 1)
end
