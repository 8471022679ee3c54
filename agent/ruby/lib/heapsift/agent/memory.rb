# frozen_string_literal: true

module HeapSift
  module Agent
    # What the process's memory is, as the kernel counts it: RSS, peak RSS
    # and the container's limit. Linux only (/proc and cgroups); elsewhere
    # every answer is nil.
    #
    # #rss runs every few seconds in a running app, so it is cheap: one
    # pread(2) of /proc/self/statm (kept open) into a reused buffer, parsed
    # in place: no object allocated (tested), 3 microseconds (measured in
    # scripts/bench).
    class Memory
      # cgroup v1 writes a huge number (about 2**63) for "no limit".
      NO_LIMIT = 1 << 60

      def initialize(proc_dir: "/proc/self", cgroup_root: "/sys/fs/cgroup")
        @proc_dir = proc_dir
        @cgroup_root = cgroup_root
        @buffer = String.new(capacity: 128)
        @page_size = page_size
      end

      # The resident set size in bytes, or nil where it can't be read.
      def rss
        @statm ||= File.open(File.join(@proc_dir, "statm"))
        @statm.pread(128, 0, @buffer)
        pages = second_number(@buffer)
        pages && pages * @page_size
      rescue SystemCallError, IOError, ArgumentError
        nil
      end

      # The peak resident set size (VmHWM) in bytes, or nil. Read as #rss
      # is: it runs right before a dump, whose heap it must not add to.
      def rss_peak
        @status ||= File.open(File.join(@proc_dir, "status"))
        @status_buffer ||= String.new(capacity: 4096)
        @status.pread(4096, 0, @status_buffer)
        at = @status_buffer.index("VmHWM:")
        kilobytes = at && number_at(@status_buffer, at + 6)
        kilobytes && kilobytes * 1024
      rescue SystemCallError, IOError
        nil
      end

      # The container's memory limit in bytes: cgroup v2's memory.max, or
      # v1's memory.limit_in_bytes, of this process's cgroup (or of the root
      # of the mounted hierarchy, which is the container's own inside most
      # containers); nil when there is none.
      def limit
        v2, v1 = cgroup_paths
        candidates = [v2 && File.join(@cgroup_root, v2, "memory.max"), File.join(@cgroup_root, "memory.max"),
                      v1 && File.join(@cgroup_root, "memory", v1, "memory.limit_in_bytes"),
                      File.join(@cgroup_root, "memory", "memory.limit_in_bytes")]
        candidates.compact.each do |file|
          next unless File.file?(file)

          value = File.read(file).strip
          return nil if value == "max"

          bytes = Integer(value, 10)
          return bytes < NO_LIMIT ? bytes : nil
        end
        nil
      rescue SystemCallError, IOError, ArgumentError
        nil
      end

      # The byte threshold of `dump_above:`: an Integer (bytes), or a
      # String "80%" (of the memory limit, which must then be known).
      # Raises ArgumentError with a sentence for the log otherwise.
      def self.threshold(dump_above, limit)
        case dump_above
        when Integer
          raise ArgumentError, "dump_above: must be positive, not #{dump_above}" unless dump_above.positive?

          dump_above
        when /\A\s*(\d+(?:\.\d+)?)\s*%\s*\z/
          share = Float(Regexp.last_match(1))
          raise ArgumentError, "dump_above: #{dump_above} is not between 0 and 100 %" unless share.positive? && share <= 100
          raise ArgumentError, "dump_above: #{dump_above} needs a memory limit, and no cgroup limit is set" unless limit

          (limit * share / 100).round
        else
          raise ArgumentError, "dump_above: #{dump_above.inspect} is neither bytes (an Integer) nor a share like \"80%\""
        end
      end

      private

      # statm's second field, resident pages, read without allocating.
      def second_number(line)
        at = line.index(" ")
        at && number_at(line, at)
      end

      # The decimal number at `at` in `text`, after any spaces; no object
      # allocated.
      def number_at(text, at)
        at += 1 while text.getbyte(at) == 32 || text.getbyte(at) == 9
        number = nil
        while (byte = text.getbyte(at)) && byte.between?(48, 57)
          number = (number || 0) * 10 + byte - 48
          at += 1
        end
        number
      end

      # This process's cgroup paths: [v2, v1 memory controller's].
      def cgroup_paths
        lines = File.readlines(File.join(@proc_dir, "cgroup"), chomp: true)
        v2 = lines.find { |line| line.start_with?("0::") }&.split(":", 3)&.last
        v1 = lines.map { |line| line.split(":", 3) }.find { |_, controllers, _| controllers.to_s.split(",").include?("memory") }
        [v2, v1&.last]
      rescue SystemCallError, IOError
        [nil, nil]
      end

      def page_size
        require "etc"
        Etc.sysconf(Etc::SC_PAGESIZE)
      rescue StandardError
        4096
      end
    end
  end
end
