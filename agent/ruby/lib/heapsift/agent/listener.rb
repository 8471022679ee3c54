# frozen_string_literal: true

require "json"

module HeapSift
  module Agent
    # Listens for dump requests on a Postgres channel, on a connection of its
    # own, and answers on `heapsift_replies`. A dropped connection is opened
    # again with growing pauses, and LISTEN issued again.
    class Listener
      REPLIES = "heapsift_replies"
      BACKOFF = [0.5, 1, 2, 5, 10, 30].freeze
      HEARTBEAT = 5

      def initialize(database_url:, channel:, log:)
        require "pg"
        @database_url = database_url
        @channel = channel
        @log = log
        @reply_lock = Mutex.new
        @reply_connection = nil
      end

      # Listens in a thread; calls `on_request.call(id, message)` per NOTIFY.
      def start(&on_request)
        @thread = Thread.new do
          Thread.current.name = "heapsift-listen"
          Thread.current.report_on_exception = false
          listen_forever(on_request)
        end
        self
      end

      def stop
        @thread&.kill&.join
        @reply_lock.synchronize { @reply_connection&.close rescue nil } # rubocop:disable Style/RescueModifier
      end

      # Sends a reply on `heapsift_replies`; failures are logged, not raised.
      # The reply connection is kept between replies; when it turns out to
      # have died (the server restarted), the reply goes on a new one.
      def reply(fields)
        payload = JSON.generate(fields)
        @reply_lock.synchronize do
          attempts = 0
          begin
            attempts += 1
            @reply_connection ||= PG.connect(@database_url, application_name: "heapsift-agent reply")
            @reply_connection.exec_params("SELECT pg_notify($1, $2)", [REPLIES, payload])
          rescue PG::ConnectionBad, PG::UnableToSend, PG::AdminShutdown => e
            @reply_connection&.close rescue nil # rubocop:disable Style/RescueModifier
            @reply_connection = nil
            retry if attempts < 2
            raise e
          end
        end
      rescue StandardError => e
        @log.call("reply failed: #{e.class}: #{e.message}")
      end

      # The request id and message of a NOTIFY payload: JSON
      # {"request": ..., "message": ...}, or plain text taken as the message.
      def self.parse(payload)
        data = JSON.parse(payload)
        data.is_a?(Hash) ? [data["request"]&.to_s, data["message"].to_s] : [nil, payload]
      rescue JSON::ParserError
        [nil, payload]
      end

      private

      def listen_forever(on_request)
        failures = 0
        loop do
          connection = PG.connect(@database_url, application_name: "heapsift-agent listen")
          connection.exec("LISTEN #{connection.quote_ident(@channel)}")
          @log.call(failures.zero? ? "listening on #{@channel}" : "reconnected; listening on #{@channel}")
          failures = 0
          checked = Time.now
          loop do
            connection.wait_for_notify(1) do |_channel, _pid, payload|
              on_request.call(*self.class.parse(payload))
            end
            # A connection that died quietly shows only when used.
            next if Time.now - checked < HEARTBEAT

            connection.exec("SELECT 1")
            checked = Time.now
          end
        rescue StandardError => e
          pause = BACKOFF[[failures, BACKOFF.size - 1].min]
          failures += 1
          @log.call("listen connection lost (#{e.class}: #{e.message.lines.first&.strip}); reconnecting in #{pause} s")
          connection&.close rescue nil # rubocop:disable Style/RescueModifier
          sleep pause
        end
      end
    end
  end
end
