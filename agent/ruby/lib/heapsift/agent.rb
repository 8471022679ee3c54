# frozen_string_literal: true

require_relative "agent/store"
require_relative "agent/memory"
require_relative "agent/memory_trigger"
require_relative "agent/runner"
require_relative "agent/listener"
require_relative "agent/signal"

module HeapSift
  # Captures heap dumps inside a Ruby app for heapsift. In Puma's
  # on_worker_boot:
  #
  #   require "heapsift/agent"
  #   HeapSift::Agent.start(dynos: 1, process_type: "web",
  #                         store: ENV["HEAPSIFT_STORE"], database_url: ENV["DATABASE_URL"])
  #
  # It does anything only in processes whose DYNO is web.1 .. web.<dynos>,
  # and never raises into the app: problems, and why it is off, are logged
  # to stderr. HeapSift::Agent.signal asks the agents for dumps.
  module Agent
    # Starts tracing and the dumping threads when this process is one of the
    # chosen dynos; returns the Runner, or nil when it does nothing.
    #
    # Dumps are taken on a signal (with `database_url`), every `every`
    # seconds, and when RSS reaches `dump_above` (bytes, or "80%" of the
    # container's memory limit), checked every `check_every` seconds, at most
    # once per `min_interval` seconds and again only after RSS went back
    # below. `gc: false` skips the full GC before each dump. `cgroup_root`
    # is where the memory limit is read (tests point it elsewhere).
    def self.start(dynos: 1, process_type: "web", store: ENV["HEAPSIFT_STORE"], database_url: nil, every: nil,
                   dump_above: nil, check_every: 10, min_interval: 3600, gc: true, cgroup_root: "/sys/fs/cgroup",
                   env: ENV, log: nil)
      log ||= ->(line) { warn("heapsift-agent[#{Process.pid}]: #{line}") }
      dyno = env["DYNO"].to_s
      number = chosen_dyno(dyno, process_type, dynos)
      return off(log, dyno, process_type, dynos) unless number

      memory = Memory.new(cgroup_root: cgroup_root)
      limit = memory.limit
      trigger = memory_trigger(dump_above, memory, limit, min_interval, log)
      store = Store.for(store)
      listener = listener(database_url, "heapsift_#{process_type}_#{number}", log)
      runner = Runner.new(dyno: dyno, store: store, log: log, memory: memory, memory_limit: limit, gc: gc,
                          reply: listener && replier(listener, dyno, store))
      ObjectSpace.trace_object_allocations_start
      runner.start(every: every, listener: listener, memory_trigger: trigger, check_every: check_every)
      log.call(started_line(dyno, store, every, trigger))
      runner
    rescue StandardError, LoadError => e
      log&.call("not started: #{missing_gem(e) || "#{e.class}: #{e.message}"}")
      nil
    end

    # The dyno's number when DYNO is <process_type>.<n> with n in 1..dynos.
    def self.chosen_dyno(dyno, process_type, dynos)
      match = /\A#{Regexp.escape(process_type)}\.(\d+)\z/.match(dyno)
      number = match && match[1].to_i
      number if number && number.between?(1, dynos)
    end

    def self.off(log, dyno, process_type, dynos)
      chosen = dynos == 1 ? "#{process_type}.1" : "#{process_type}.1 .. #{process_type}.#{dynos}"
      log.call(dyno.empty? ? "off: DYNO is not set (the agent runs in #{chosen})" : "off: #{dyno} is not #{chosen}")
      nil
    end

    # The memory trigger of `dump_above`, or nil (none asked, or no way to
    # honour it: said in the log).
    def self.memory_trigger(dump_above, memory, limit, min_interval, log)
      return nil unless dump_above
      raise ArgumentError, "RSS cannot be read here (no /proc/self/statm)" unless memory.rss

      threshold = Memory.threshold(dump_above, limit)
      MemoryTrigger.new(threshold: threshold, min_interval: min_interval)
    rescue ArgumentError => e
      log.call("no memory trigger: #{e.message}")
      nil
    end

    # The signal listener, or nil without a database URL or the pg gem.
    def self.listener(database_url, channel, log)
      return nil if database_url.to_s.empty?

      Listener.new(database_url: database_url, channel: channel, log: log)
    rescue LoadError => e
      log.call("signals off: #{missing_gem(e) || e.message}")
      nil
    end

    # Answers signals on heapsift_replies: `started`, then `stored` with the
    # key and its full location, or `failed`.
    def self.replier(listener, dyno, store)
      lambda do |request, status, key, message|
        next unless request.signal

        listener.reply(request: request.id, dyno: dyno, pid: Process.pid, status: status, key: key,
                       url: key && store.location(key), message: message)
      end
    end

    def self.started_line(dyno, store, every, trigger)
      parts = ["tracing allocations in #{dyno}", "storing in #{store.location('')}"]
      parts << "dumping every #{every} s" if every
      parts << "dumping when RSS reaches #{(trigger.threshold / 1_048_576.0).round} MB" if trigger
      parts.join("; ")
    end

    # "the pg gem is missing ..." for a LoadError of an optional gem.
    def self.missing_gem(error)
      gem = { "pg" => "pg", "aws-sdk-s3" => "aws-sdk-s3" }[error.respond_to?(:path) ? error.path : nil]
      gem && "the #{gem} gem is not installed: add gem \"#{gem}\" to the Gemfile"
    end
    private_class_method :off, :memory_trigger, :listener, :replier, :started_line, :missing_gem
  end
end
