# frozen_string_literal: true

require "minitest/autorun"
require "tmpdir"
require_relative "../lib/heapsift/agent"

# What the agent tests share: a scratch folder, a log to look at, waiting.
module AgentTestHelper
  def setup_scratch_and_log(name)
    @dir = Dir.mktmpdir(name)
    @logged = []
    lock = Mutex.new
    @log = ->(line) { lock.synchronize { @logged << line } }
    @log_lines = -> { lock.synchronize { @logged.dup } }
  end

  # Waits until the block returns something truthy, and returns it.
  def wait_for(seconds = 10)
    deadline = Time.now + seconds
    until (result = yield)
      raise "timed out; log: #{@log_lines.call.join(' | ')}" if Time.now > deadline

      sleep 0.05
    end
    result
  end
end
