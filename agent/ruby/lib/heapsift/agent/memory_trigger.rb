# frozen_string_literal: true

module HeapSift
  module Agent
    # Decides when high memory deserves a dump: when RSS is at or above the
    # threshold, at most once per `min_interval` seconds, and, after a dump,
    # only once RSS went back below the threshold (a process that stays high
    # is dumped once, not every interval).
    class MemoryTrigger
      attr_reader :threshold

      def initialize(threshold:, min_interval:)
        @threshold = threshold
        @min_interval = min_interval
        @armed = true
        @last = nil
      end

      # Whether a dump is due, given the RSS now and the time (seconds, a
      # monotonic clock); a true answer counts as the dump taken.
      def due?(rss, now)
        return false unless rss

        if rss < @threshold
          @armed = true
          return false
        end
        return false unless @armed && (@last.nil? || now - @last >= @min_interval)

        @armed = false
        @last = now
        true
      end
    end
  end
end
