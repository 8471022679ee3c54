# frozen_string_literal: true

require "fileutils"
require "tmpdir"
require_relative "dumper"

module HeapSift
  module Agent
    # Takes dumps one at a time, in a thread of its own, and stores them.
    #
    # Requests (signals, the schedule) queue up while a dump runs, so none is
    # lost. A dump whose upload fails waits in a spool folder, bounded to the
    # newest SPOOL_LIMIT, and is retried before the next dump.
    class Runner
      SPOOL_LIMIT = 3

      # A request to dump: its id (if the signal had one), its message, and
      # whether it came as a signal (answered) or from the schedule.
      Request = Struct.new(:id, :message, :signal)

      attr_reader :spool_dir

      def initialize(dyno:, store:, log:, reply: nil, spool_dir: nil)
        @dyno = dyno
        @store = store
        @log = log
        @reply = reply || ->(_request, _status, _key, _message) {}
        @spool_dir = spool_dir || File.join(Dir.tmpdir, "heapsift-spool-#{Process.pid}")
        @queue = Queue.new
        @threads = []
      end

      # Starts the dumping thread, a schedule when `every` is set, and the
      # listener, if any, whose requests it queues.
      def start(every: nil, listener: nil)
        FileUtils.mkdir_p(@spool_dir)
        @listener = listener&.start do |id, message|
          @log.call("signal received: #{message}")
          request(id, message)
        end
        @threads << safe_thread("dumper") { loop { handle(@queue.pop) } }
        if every
          @threads << safe_thread("schedule") do
            loop do
              sleep every
              @queue << Request.new(nil, "scheduled dump every #{every} s", false)
            end
          end
        end
        self
      end

      # Queues a dump asked for by a signal.
      def request(id, message)
        @queue << Request.new(id, message, true)
      end

      def stop
        @listener&.stop
        @threads.each(&:kill).each(&:join)
      end

      private

      def handle(request)
        @reply.call(request, "started", nil, request.message)
        retry_spool
        path = Dumper.dump(@spool_dir)
        key = Dumper.key(@dyno)
        if store(key, path)
          @reply.call(request, "stored", key, "stored")
        else
          keep_in_spool(key, path)
          @reply.call(request, "failed", nil, "upload failed; kept for retry")
        end
      rescue StandardError => e
        @log.call("dump failed: #{e.class}: #{e.message}")
        @reply.call(request, "failed", nil, e.message)
      end

      # Stores a file; deletes it only once the store took it.
      def store(key, path)
        @store.put(key, path)
        File.delete(path)
        @log.call("dump stored: #{@store.location(key)}")
        true
      rescue StandardError => e
        @log.call("upload of #{key} failed: #{e.class}: #{e.message}")
        false
      end

      # Spooled dumps are named after their key, with "/" as "%".
      def keep_in_spool(key, path)
        File.rename(path, File.join(@spool_dir, "#{key.tr('/', '%')}.spooled"))
        spooled = Dir[File.join(@spool_dir, "*.spooled")].sort
        spooled[0...-SPOOL_LIMIT].each do |old|
          File.delete(old)
          @log.call("dropped spooled dump #{File.basename(old, '.spooled').tr('%', '/')}: more than #{SPOOL_LIMIT} waiting")
        end
      end

      def retry_spool
        Dir[File.join(@spool_dir, "*.spooled")].sort.each do |path|
          key = File.basename(path, ".spooled").tr("%", "/")
          @log.call("retrying spooled dump #{key}")
          break unless store(key, path)
        end
      end

      def safe_thread(name)
        Thread.new do
          Thread.current.name = "heapsift-#{name}"
          Thread.current.report_on_exception = false
          yield
        rescue StandardError => e
          @log.call("#{name} thread stopped: #{e.class}: #{e.message}")
        end
      end
    end
  end
end
