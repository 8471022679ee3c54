# frozen_string_literal: true

require "objspace"
require "zlib"

module HeapSift
  module Agent
    # Writes the heap, gzipped, to a file: ObjectSpace.dump_all writes into
    # a pipe and a thread compresses what comes out of it, so the raw dump
    # never touches the disk (a 2M-object heap is 486 MB raw, 22 MB
    # gzipped). Ruby 3.1's dump_all writes only to a real IO, hence the pipe
    # rather than a GzipWriter. zlib deflates without holding the GVL, so
    # compressing runs beside dump_all on another core; measured here on a
    # 1M-object heap, 1.99 s instead of 1.01 s to a file plus 1.41 s to
    # gzip it.
    module Dumper
      # What a dump took.
      Dump = Struct.new(:path, :seconds, :compressed_bytes, keyword_init: true)

      # Pipe reads: big enough for few GVL switches, small enough to be
      # nothing in the dump.
      CHUNK = 1 << 16

      # Dumps the heap into `path` (gzip) and says how long it took. With
      # `gc`, a full GC first, so the dump holds live objects only; the block,
      # if any, runs between the GC and the dump.
      def self.dump(path, gc: true, &before)
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        reader, writer = IO.pipe
        compressor = compress_thread(reader, path)
        write_heap(writer, gc, before)
        compressor.value # raises what stopped the compressor
        Dump.new(path: path, seconds: Process.clock_gettime(Process::CLOCK_MONOTONIC) - started,
                 compressed_bytes: File.size(path))
      rescue StandardError
        finished(compressor)
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

      # Waits for the compressor to let go of the file, whatever it raised.
      def self.finished(compressor)
        compressor&.join
      rescue StandardError
        nil
      end
      private_class_method :write_heap, :finished

      # Gzips everything read from `reader` into `path`. Reads go into one
      # buffer allocated before the dump starts, so the compressor adds no
      # objects to the heap being dumped.
      def self.compress_thread(reader, path)
        buffer = String.new(capacity: CHUNK)
        Thread.new do
          Thread.current.name = "heapsift-compress"
          Thread.current.report_on_exception = false
          File.open(path, "wb") do |file|
            gzip = Zlib::GzipWriter.new(file, Zlib::BEST_SPEED)
            gzip.write(buffer) while reader.read(CHUNK, buffer)
            gzip.finish
          end
        ensure
          reader.close # a compressor that failed stops dump_all (EPIPE)
        end
      end
      private_class_method :compress_thread

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
