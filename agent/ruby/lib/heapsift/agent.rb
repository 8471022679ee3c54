# frozen_string_literal: true

require_relative "agent/store"
require_relative "agent/runner"
require_relative "agent/listener"

module HeapSift
  # Captures heap dumps inside a Ruby app for heapsift. In Puma's
  # on_worker_boot:
  #
  #   require "heapsift/agent"
  #   HeapSift::Agent.start(dynos: 1, process_type: "web",
  #                         store: ENV["HEAPSIFT_STORE"], every: nil)
  #
  # It does anything only in processes whose DYNO is web.1 .. web.<dynos>,
  # and never raises into the app: problems are logged to stderr.
  module Agent
    # Starts tracing and the dumping threads when this process is one of the
    # chosen dynos; returns the Runner, or nil when it does nothing.
    def self.start(dynos: 1, process_type: "web", store: ENV["HEAPSIFT_STORE"], database_url: nil, every: nil,
                   env: ENV, log: nil)
      log ||= ->(line) { warn("heapsift-agent[#{Process.pid}]: #{line}") }
      dyno = env["DYNO"].to_s
      number = chosen_dyno(dyno, process_type, dynos)
      return nil unless number

      listener = database_url && Listener.new(database_url: database_url, channel: "heapsift_#{process_type}_#{number}",
                                              log: log)
      reply = lambda do |request, status, key, message|
        next unless listener && request.signal

        listener.reply(request: request.id, dyno: dyno, pid: Process.pid, status: status, key: key, message: message)
      end
      runner = Runner.new(dyno: dyno, store: Store.for(store), log: log, reply: reply)
      ObjectSpace.trace_object_allocations_start
      runner.start(every: every, listener: listener)
      log.call("tracing allocations in #{dyno}#{every ? ", dumping every #{every} s" : ''}")
      runner
    rescue StandardError => e
      log&.call("not started: #{e.class}: #{e.message}")
      nil
    end

    # The dyno's number when DYNO is <process_type>.<n> with n in 1..dynos.
    def self.chosen_dyno(dyno, process_type, dynos)
      match = /\A#{Regexp.escape(process_type)}\.(\d+)\z/.match(dyno)
      number = match && match[1].to_i
      number if number && number.between?(1, dynos)
    end
  end
end
