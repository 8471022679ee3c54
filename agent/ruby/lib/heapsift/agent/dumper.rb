# frozen_string_literal: true

require "objspace"
require "tmpdir"
require "zlib"

module HeapSift
  module Agent
    # Writes the heap to a gzipped temporary file.
    module Dumper
      CHUNK = 1 << 20

      # Dumps the heap into dir and returns the path of the .gz file.
      def self.dump(dir)
        stamp = "#{Process.pid}-#{Time.now.to_f}"
        raw = File.join(dir, "heap-#{stamp}.dump")
        gz = "#{raw}.gz"
        File.open(raw, "w") { |file| ObjectSpace.dump_all(output: file) }
        Zlib::GzipWriter.open(gz, Zlib::BEST_SPEED) do |out|
          File.open(raw, "rb") do |input|
            while (chunk = input.read(CHUNK))
              out.write(chunk)
            end
          end
        end
        gz
      ensure
        File.delete(raw) if raw && File.exist?(raw)
      end

      # The store key of a dump taken now: <dyno>/<UTC time, ms>-process:<pid>-heap.dump.gz
      def self.key(dyno, time = Time.now)
        "#{dyno}/#{time.utc.strftime('%Y-%m-%dT%H:%M:%S.%LZ')}-process:#{Process.pid}-heap.dump.gz"
      end
    end
  end
end
