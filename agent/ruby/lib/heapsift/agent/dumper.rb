# frozen_string_literal: true

require "objspace"
require "zlib"

module HeapSift
  module Agent
    # Writes the heap, gzipped, to a file: ObjectSpace.dump_all writes into
    # a pipe and a compressor gzips what comes out of it, so the raw dump
    # never touches the disk (a 2M-object heap is 486 MB raw, 22 MB
    # gzipped). Ruby 3.1's dump_all writes only to a real IO, hence the pipe
    # rather than a GzipWriter.
    #
    # The compressor is a `gzip -1` process where there is one (every Linux
    # image ships gzip): it runs on another core and allocates nothing in
    # the heap being dumped. Otherwise a thread compresses with zlib, which
    # deflates without the GVL but allocates a String per block of output:
    # in a test app's dump those made 9 % of the bytes, all garbage.
    module Dumper
      # What a dump took.
      Dump = Struct.new(:path, :seconds, :compressed_bytes, keyword_init: true)

      # Dumps the heap into `path` (gzip) and says how long it took. With
      # `gc`, a full GC first, so the dump holds live objects only; the block,
      # if any, runs between the GC and the dump. `compressor` is a class
      # answering .start(reader, path) and #finish.
      def self.dump(path, gc: true, compressor: Compressor.best, &before)
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        reader, writer = IO.pipe
        running = compressor.start(reader, path)
        write_heap(writer, gc, before)
        running.finish # raises what stopped the compressor
        Dump.new(path: path, seconds: Process.clock_gettime(Process::CLOCK_MONOTONIC) - started,
                 compressed_bytes: File.size(path))
      rescue StandardError
        writer.close if writer && !writer.closed?
        running&.abandon
        File.delete(path) if File.exist?(path)
        raise
      end

      def self.write_heap(writer, gc, before)
        GC.start(full_mark: true, immediate_sweep: true) if gc
        before&.call
        ObjectSpace.dump_all(output: writer)
      rescue Errno::EPIPE
        nil # the compressor stopped; its error is the one to raise
      ensure
        writer.close
      end
      private_class_method :write_heap

      # The compressors, each started on the pipe's reading end.
      module Compressor
        # A gzip process when the PATH has one, else a thread.
        def self.best(path = ENV.fetch("PATH", ""))
          path.split(File::PATH_SEPARATOR).any? { |dir| File.executable?(File.join(dir, "gzip")) } ? Process : Thread
        end

        # `gzip -1` from the pipe into the file.
        class Process
          def self.start(reader, path)
            pid = ::Process.spawn("gzip", "-1", "-c", in: reader, out: [path, "wb"], err: File::NULL)
            new(pid)
          ensure
            reader.close
          end

          def initialize(pid)
            @pid = pid
          end

          def finish
            _pid, status = ::Process.wait2(@pid)
            raise IOError, "gzip failed (#{status})" unless status.success?
          end

          def abandon
            finish
          rescue StandardError
            nil
          end
        end

        # zlib in a thread, reading the pipe into one buffer allocated
        # before the dump starts.
        class Thread
          CHUNK = 1 << 16

          def self.start(reader, path)
            new(reader, path)
          end

          def initialize(reader, path)
            buffer = String.new(capacity: CHUNK)
            @thread = ::Thread.new do
              ::Thread.current.name = "heapsift-compress"
              ::Thread.current.report_on_exception = false
              File.open(path, "wb") do |file|
                gzip = Zlib::GzipWriter.new(file, Zlib::BEST_SPEED)
                gzip.write(buffer) while reader.read(CHUNK, buffer)
                gzip.finish
              end
            ensure
              reader.close # a compressor that failed stops dump_all (EPIPE)
            end
          end

          def finish
            @thread.value
          end

          def abandon
            @thread.join
          rescue StandardError
            nil
          end
        end
      end

      # The store key of a dump taken at `time`:
      # <dyno>/<UTC time, ms>-process:<pid>-heap.dump.gz
      def self.key(dyno, time)
        "#{dyno}/#{time.utc.strftime('%Y-%m-%dT%H:%M:%S.%LZ')}-process:#{Process.pid}-heap.dump.gz"
      end

      # The key of a dump's context record: the dump's with .json for .dump.gz.
      def self.context_key(key)
        key.sub(/\.dump\.gz\z/, ".json")
      end
    end
  end
end
