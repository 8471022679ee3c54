# frozen_string_literal: true

# The capture benchmark (scripts/bench runs it through scripts/with-postgres):
# a Puma worker holding 2M Hashes with the agent, signalled by `heapsift
# signal --wait` while a client sends requests to it back to back. Prints,
# per agent lib given (the current one, and BASELINE_AGENT's when set):
# signal-to-stored time, the most the agent's temporary and spool folders
# held while it ran (sampled every 20 ms) against the compressed dump, and
# the client's p50/p99/max latency during the dump.
#
#   ruby agent/ruby/bench/capture.rb HEAPSIFT_BIN [BASELINE_AGENT_LIB]
require "fileutils"
require "net/http"
require "socket"
require "tmpdir"

heapsift, baseline = ARGV
here = __dir__
database_url = ENV.fetch("HEAPSIFT_TEST_DATABASE_URL")
libs = { "agent" => File.expand_path("../lib", here) }
libs["agent (baseline)"] = File.expand_path(baseline) if baseline

def free_port
  server = TCPServer.new("127.0.0.1", 0)
  server.addr[1]
ensure
  server&.close
end

def folder_bytes(dir)
  Dir.glob(File.join(dir, "**", "*")).sum { |path| File.file?(path) ? File.size(path) : 0 }
rescue SystemCallError
  0
end

def percentile(sorted, share)
  sorted[((sorted.size - 1) * share).round]
end

def run(label, lib, heapsift, database_url, here)
  work = Dir.mktmpdir("heapsift-capture-bench")
  tmp = File.join(work, "tmp")
  FileUtils.mkdir_p(tmp)
  port = free_port
  log = File.join(work, "puma.log")
  env = { "PORT" => port.to_s, "DYNO" => "web.1", "HEAPSIFT_STORE" => File.join(work, "store"),
          "DATABASE_URL" => database_url, "TMPDIR" => tmp, "RUBYLIB" => lib }
  puma = spawn(env, "puma", "-C", File.join(here, "puma.rb"), %i[out err] => [log, "w"])
  sleep 0.2 until File.read(log).include?("listening on heapsift_web_1")
  uri = URI("http://127.0.0.1:#{port}/")
  Net::HTTP.get_response(uri) # the worker loads the app (and its 2M Hashes) first

  dumping = false
  latencies = []
  stop = false
  client = Thread.new do
    Net::HTTP.start(uri.host, uri.port) do |http|
      until stop
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        http.get("/")
        latencies << Process.clock_gettime(Process::CLOCK_MONOTONIC) - started if dumping
      end
    end
  end
  most = 0
  sampler = Thread.new do
    until stop
      most = [most, folder_bytes(tmp)].max
      sleep 0.02
    end
  end
  sleep 1
  dumping = true
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  system({ "DATABASE_URL" => database_url }, heapsift, "signal", "--wait", "--store", File.join(work, "store"),
         out: File::NULL, exception: true)
  elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  dumping = false
  stop = true
  [client, sampler].each(&:join)
  compressed = Dir[File.join(work, "store", "**", "*.dump.gz")].sum { |path| File.size(path) }
  sorted = latencies.sort
  printf("%-34s %8.2f s signal to stored; %d MB compressed, temp+spool at most %d MB\n", "#{label}: 2M Hashes",
         elapsed, compressed >> 20, most >> 20)
  printf("%-34s %d requests during the dump: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", "", sorted.size,
         percentile(sorted, 0.5) * 1000, percentile(sorted, 0.99) * 1000, sorted.last * 1000)
ensure
  if puma
    Process.kill("TERM", puma)
    Process.wait(puma)
  end
  FileUtils.rm_rf(work) if work
end

libs.each { |label, lib| run(label, lib, heapsift, database_url, here) }

# One RSS check, as the memory trigger makes it every check_every seconds.
$LOAD_PATH.unshift(libs["agent"])
require "heapsift/agent"
memory = HeapSift::Agent::Memory.new
memory.rss
checks = 100_000
allocated = GC.stat(:total_allocated_objects)
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
checks.times { memory.rss }
elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
printf("%-34s %8.1f µs, %.2f objects allocated\n", "one RSS check", elapsed / checks * 1e6,
       (GC.stat(:total_allocated_objects) - allocated).to_f / checks)
