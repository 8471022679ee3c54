# frozen_string_literal: true

require "json"

module HeapSift
  module Agent
    # The context record stored beside each dump (same key, .json for
    # .dump.gz): what a heap dump cannot say about the process. `heapsift
    # info` compares its RSS with the dump's objects. The fields, version 1:
    #
    # version, time, dyno, pid, ruby_description, trigger ({kind: "signal",
    # message, request} | {kind: "schedule", every, message} | {kind:
    # "memory", rss_bytes, threshold_bytes, message}), rss_bytes,
    # rss_peak_bytes, memory_limit_bytes, heap_pages_bytes, gc (GC.stat),
    # gc_heap (GC.stat_heap, Ruby >= 3.2, else null), tracing_since,
    # dump_seconds, compressed_bytes. Sizes in bytes; unknown values null.
    module Context
      VERSION = 1

      # What is known before the dump: taken right before it, after the GC
      # the dumper runs, so GC.stat describes the heap the dump holds.
      # Returns a Hash for .record.
      def self.before_dump(memory)
        { rss_bytes: memory.rss, rss_peak_bytes: memory.rss_peak, gc: GC.stat, gc_heap: gc_heap,
          heap_pages_bytes: heap_pages_bytes }
      end

      # The record of one dump, as JSON.
      def self.record(time:, dyno:, trigger:, process:, memory_limit:, tracing_since:, dump:)
        JSON.generate(
          version: VERSION, time: time.utc.strftime("%Y-%m-%dT%H:%M:%S.%LZ"), dyno: dyno, pid: Process.pid,
          ruby_description: RUBY_DESCRIPTION, trigger: trigger, memory_limit_bytes: memory_limit,
          tracing_since: tracing_since&.utc&.strftime("%Y-%m-%dT%H:%M:%S.%LZ"),
          dump_seconds: dump.seconds.round(3), compressed_bytes: dump.compressed_bytes, **process
        )
      end

      # GC.stat_heap (Ruby >= 3.2: one entry per size pool), or nil.
      def self.gc_heap
        GC.respond_to?(:stat_heap) ? GC.stat_heap : nil
      end

      # The bytes of the GC's heap pages: what object slots take, used or
      # free. Where Ruby names no page size (2.7), a page is
      # HEAP_PAGE_OBJ_LIMIT slots of RVALUE_SIZE bytes (16 KiB, bar its header).
      def self.heap_pages_bytes
        constants = GC::INTERNAL_CONSTANTS
        page = constants[:HEAP_PAGE_SIZE] ||
               (constants[:HEAP_PAGE_OBJ_LIMIT] && constants[:RVALUE_SIZE] &&
                constants[:HEAP_PAGE_OBJ_LIMIT] * constants[:RVALUE_SIZE])
        page && GC.stat(:heap_allocated_pages) * page
      end
    end
  end
end
