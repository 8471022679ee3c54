# frozen_string_literal: true

# One worker with the agent (whichever lib RUBYLIB names), storing in a
# folder; TMPDIR is where the agent writes while dumping.
workers 1
threads 4, 4
bind "tcp://127.0.0.1:#{ENV.fetch('PORT')}"
rackup File.join(__dir__, "app.ru")

on_worker_boot do
  require "heapsift/agent"
  HeapSift::Agent.start(dynos: 1, store: ENV.fetch("HEAPSIFT_STORE"), database_url: ENV.fetch("DATABASE_URL"))
end
