# frozen_string_literal: true

require "json"
require "securerandom"

module HeapSift
  module Agent
    # Asks the agents for dumps, from Ruby: `rails c` (also in `heroku run
    # rails c`), a scheduler task, the `heapsift-agent signal` command. The
    # protocol is `heapsift signal`'s, so either talks to the other's
    # agents: a NOTIFY on heapsift_<process_type>_<n> for n in 1..dynos with
    # {"request": id, "message": text}; each agent answers on
    # heapsift_replies with `started`, then `stored` (key, url) or `failed`.
    module Signals
      REPLIES = "heapsift_replies"
      # After the last reply, how long to wait for more processes (workers
      # that start later, other dynos).
      SETTLE = 1.0

      # What a signal achieved. `finished` holds the final reply (a Hash
      # with "dyno", "pid", "status", "key", "url", "message") of every
      # process that answered, `unfinished` the [dyno, pid] of those that
      # started a dump and did not finish in time.
      Outcome = Struct.new(:request, :finished, :unfinished, keyword_init: true) do
        # The replies of the processes that stored their dump.
        def stored
          finished.select { |reply| reply["status"] == "stored" }
        end

        # The replies of the processes whose dump failed.
        def failed
          finished.reject { |reply| reply["status"] == "stored" }
        end

        # Where the dumps were stored (the key, from agents that send no URL).
        def urls
          stored.map { |reply| reply["url"] || reply["key"] }
        end

        # Whether every process that answered stored its dump.
        def success?
          !finished.empty? && failed.empty? && unfinished.empty?
        end
      end

      # Sends the signal; with `wait`, collects the answers for up to
      # `timeout` seconds.
      def self.send_signal(message:, dynos:, process_type:, database_url:, wait:, timeout:)
        raise ArgumentError, "dynos: must be at least 1" unless dynos.to_i >= 1
        raise ArgumentError, "no database_url given (DATABASE_URL is not set)" if database_url.to_s.empty?

        require "pg"
        connection = PG.connect(database_url, application_name: "heapsift-agent signal")
        connection.exec("LISTEN #{REPLIES}") if wait
        request = SecureRandom.hex(8)
        payload = JSON.generate(request: request, message: message)
        (1..dynos).each do |number|
          connection.exec_params("SELECT pg_notify($1, $2)", ["heapsift_#{process_type}_#{number}", payload])
        end
        return Outcome.new(request: request, finished: [], unfinished: []) unless wait

        collect(connection, request, timeout)
      ensure
        connection&.close
      end

      # Replies to `request` until every process that started finished and
      # none answered for SETTLE seconds, or until the timeout.
      def self.collect(connection, request, timeout)
        deadline = monotonic + timeout
        last_reply = nil
        running = {}
        loop do
          all_done = !running.empty? && running.values.all?
          break if (all_done && monotonic - last_reply >= SETTLE) || monotonic >= deadline

          connection.wait_for_notify([0.1, deadline - monotonic].min) do |_channel, _pid, payload|
            reply = parse(payload)
            next unless reply && reply["request"] == request

            last_reply = monotonic
            process = [reply["dyno"], reply["pid"]]
            case reply["status"]
            when "started" then running[process] ||= nil
            when "stored", "failed" then running[process] = reply
            end
          end
        end
        Outcome.new(request: request, finished: running.values.compact,
                    unfinished: running.select { |_, reply| reply.nil? }.keys)
      end

      def self.parse(payload)
        reply = JSON.parse(payload)
        reply.is_a?(Hash) ? reply : nil
      rescue JSON::ParserError
        nil
      end

      def self.monotonic
        Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end
      private_class_method :collect, :parse, :monotonic
    end

    # Asks every agent on web.1 .. web.<dynos> (of `process_type`) for a
    # dump, as `heapsift signal` does, and returns a Signals::Outcome; with
    # `wait: true` it holds what each answering process stored (#urls) or
    # why it failed, once all are done or `timeout` seconds passed.
    #
    #   HeapSift::Agent.signal("before the deploy", wait: true).urls
    def self.signal(message = nil, dynos: 1, process_type: "web", database_url: ENV["DATABASE_URL"], wait: false,
                    timeout: 60)
      Signals.send_signal(message: message || "heapsift signal", dynos: dynos, process_type: process_type,
                         database_url: database_url, wait: wait, timeout: timeout)
    end
  end
end
