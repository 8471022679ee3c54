# frozen_string_literal: true

require "fileutils"
require "tmpdir"
require_relative "context"
require_relative "dumper"
require_relative "memory"

module HeapSift
  module Agent
    # Takes dumps one at a time, in a thread of its own, and stores them
    # with their context records.
    #
    # Requests (signals, the schedule, high memory) queue up while a dump runs, so none is
    # lost. Dumps are written, compressed, into a spool folder
    # (removed whenever it is empty); one whose upload fails waits there,
    # bounded to the newest SPOOL_LIMIT, and is retried before the next dump.
    class Runner
      SPOOL_LIMIT = 3

      # A request to dump: its id (if the signal had one), its message,
      # whether it came as a signal (answered), and what triggered it, for
      # the context record.
      Request = Struct.new(:id, :message, :signal, :trigger)

      attr_reader :spool_dir

      # `memory` reads RSS (a Memory); `gc: false` dumps without a full GC
      # first (the dump then holds the garbage of the last GC cycle).
      def initialize(dyno:, store:, log:, reply: nil, spool_dir: nil, memory: Memory.new, memory_limit: nil, gc: true)
        @dyno = dyno
        @store = store
        @log = log
        @reply = reply || ->(_request, _status, _key, _message) {}
        @spool_dir = spool_dir || File.join(Dir.tmpdir, "heapsift-spool-#{Process.pid}")
        @memory = memory
        @memory_limit = memory_limit
        @gc = gc
        @tracing_since = Time.now
        @queue = Queue.new
        @threads = []
      end

      # Starts the dumping thread, a schedule when `every` is set, a memory
      # watch when `memory_trigger` is (checked every `check_every` s), and
      # the listener, if any, whose requests it queues.
      def start(every: nil, listener: nil, memory_trigger: nil, check_every: 10)
        @listener = listener&.start do |id, message|
          @log.call("signal received: #{message}")
          request(id, message)
        end
        @threads << safe_thread("dumper") { loop { handle(@queue.pop) } }
        @threads << safe_thread("schedule") { schedule(every) } if every
        @threads << safe_thread("memory") { watch_memory(memory_trigger, check_every) } if memory_trigger
        self
      end

      # Queues a dump asked for by a signal.
      def request(id, message)
        @queue << Request.new(id, message, true, { kind: "signal", message: message, request: id })
      end

      def stop
        @listener&.stop
        @threads.each(&:kill).each(&:join)
        remove_spool_if_empty
      end

      private

      def schedule(every)
        loop do
          sleep every
          message = "scheduled dump every #{every} s"
          @queue << Request.new(nil, message, false, { kind: "schedule", every: every, message: message })
        end
      end

      def watch_memory(trigger, check_every)
        loop do
          sleep check_every
          rss = @memory.rss
          next unless trigger.due?(rss, Process.clock_gettime(Process::CLOCK_MONOTONIC))

          message = "RSS #{megabytes(rss)} is above #{megabytes(trigger.threshold)}"
          @log.call("#{message}: dumping")
          @queue << Request.new(nil, message, false,
                                { kind: "memory", rss_bytes: rss, threshold_bytes: trigger.threshold, message: message })
        end
      end

      def handle(request)
        @reply.call(request, "started", nil, request.message)
        FileUtils.mkdir_p(@spool_dir)
        retry_spool
        key, files = dump(request)
        if store(key, files)
          @reply.call(request, "stored", key, "stored")
        else
          keep_in_spool(key, files)
          @reply.call(request, "failed", nil, "upload failed; kept for retry")
        end
      rescue StandardError => e
        @log.call("dump failed: #{e.class}: #{e.message}")
        @reply.call(request, "failed", nil, e.message)
      ensure
        remove_spool_if_empty
      end

      # Dumps the heap and writes its context record, both in the spool
      # folder; returns the dump's key and the two files, by key. Leaves no
      # file behind when it fails.
      def dump(request)
        time = Time.now
        key = Dumper.key(@dyno, time)
        base = File.join(@spool_dir, "dumping-#{Process.pid}-#{time.to_f}")
        process = nil
        dump = Dumper.dump("#{base}.dump.gz", gc: @gc) { process = Context.before_dump(@memory) }
        File.write("#{base}.json", Context.record(time: time, dyno: @dyno, trigger: request.trigger, process: process,
                                                  memory_limit: @memory_limit, tracing_since: @tracing_since,
                                                  dump: dump))
        [key, { Dumper.context_key(key) => "#{base}.json", key => dump.path }]
      rescue StandardError
        FileUtils.rm_f(["#{base}.dump.gz", "#{base}.json"]) if base
        raise
      end

      # Stores the files (the context record first, so that a stored dump
      # always has one); deletes each once the store took it.
      def store(key, files)
        files.each do |name, path|
          @store.put(name, path)
          File.delete(path)
        end
        @log.call("dump stored: #{@store.location(key)}")
        true
      rescue StandardError => e
        @log.call("upload of #{key} failed: #{e.class}: #{e.message}")
        false
      end

      # Spooled files are named after their key, with "/" as "%".
      def keep_in_spool(key, files)
        files.each do |name, path|
          File.rename(path, spooled(name)) if File.exist?(path)
        end
        dumps = Dir[File.join(@spool_dir, "*.dump.gz.spooled")].sort
        dumps[0...-SPOOL_LIMIT].each do |old|
          dropped = File.basename(old, ".spooled").tr("%", "/")
          FileUtils.rm_f([old, spooled(Dumper.context_key(dropped))])
          @log.call("dropped spooled dump #{dropped}: more than #{SPOOL_LIMIT} waiting")
        end
        @log.call("kept #{key} for retry (#{dumps.size.clamp(0, SPOOL_LIMIT)} waiting)")
      end

      def retry_spool
        Dir[File.join(@spool_dir, "*.dump.gz.spooled")].sort.each do |path|
          key = File.basename(path, ".spooled").tr("%", "/")
          context = spooled(Dumper.context_key(key))
          @log.call("retrying spooled dump #{key}")
          files = File.exist?(context) ? { Dumper.context_key(key) => context } : {}
          break unless store(key, files.merge(key => path))
        end
      end

      def spooled(key)
        File.join(@spool_dir, "#{key.tr('/', '%')}.spooled")
      end

      def remove_spool_if_empty
        Dir.rmdir(@spool_dir)
      rescue SystemCallError
        nil # not empty, or gone already
      end

      def megabytes(bytes)
        "#{(bytes / 1_048_576.0).round} MB"
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
