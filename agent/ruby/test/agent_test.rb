# frozen_string_literal: true

# Tests of the agent with real dumps of this process and a real folder
# store. HEAPSIFT_BIN, when set, is the heapsift binary that must read them.
require "json"
require "open3"
require_relative "test_helper"

class AgentTest < Minitest::Test
  include AgentTestHelper

  KEY = %r{\Aweb\.1/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-process:#{Process.pid}-heap\.dump\.gz\z}.freeze

  def setup
    setup_scratch_and_log("heapsift-agent-test")
  end

  def teardown
    @runner&.stop
    FileUtils.rm_rf(@dir)
  end

  def stored_keys(root)
    return [] unless File.directory?(root)

    Dir.chdir(root) { Dir["**/*.gz"].sort }
  end

  # The context record stored beside a dump.
  def context_of(root, key)
    JSON.parse(File.read(File.join(root, key.sub(/\.dump\.gz\z/, ".json"))))
  end

  def test_only_the_chosen_dynos_run
    assert_equal 1, HeapSift::Agent.chosen_dyno("web.1", "web", 1)
    assert_equal 2, HeapSift::Agent.chosen_dyno("web.2", "web", 3)
    assert_nil HeapSift::Agent.chosen_dyno("web.2", "web", 1)
    assert_nil HeapSift::Agent.chosen_dyno("web.0", "web", 1)
    assert_nil HeapSift::Agent.chosen_dyno("worker.1", "web", 1)
    assert_nil HeapSift::Agent.chosen_dyno("web.1.x", "web", 1)
    assert_nil HeapSift::Agent.chosen_dyno("", "web", 1)
    store = File.join(@dir, "store")
    assert_nil HeapSift::Agent.start(dynos: 1, store: store, every: 0.1, env: { "DYNO" => "web.2" }, log: @log)
    assert_nil HeapSift::Agent.start(dynos: 1, store: store, every: 0.1, env: {}, log: @log)
    sleep 0.5
    refute File.exist?(store), "a process that is not chosen stores nothing"
    assert_equal ["off: web.2 is not web.1", "off: DYNO is not set (the agent runs in web.1)"], @log_lines.call
    HeapSift::Agent.start(dynos: 3, store: store, env: { "DYNO" => "worker.1" }, log: @log)
    assert_equal "off: worker.1 is not web.1 .. web.3", @log_lines.call.last
  end

  # Runs `script` in a Ruby that cannot load the given gems, as in an app
  # whose Gemfile lacks them; returns what it wrote to stderr.
  def without_gems(gems, script)
    hide = "$LOAD_PATH.reject! { |dir| #{gems.inspect}.any? { |gem| File.exist?(File.join(dir, gem + '.rb')) } }"
    lib = File.expand_path("../lib", __dir__)
    _out, err, status = Open3.capture3("ruby", "--disable-gems", "-e", hide, "-I", lib, "-e", 'require "heapsift/agent"',
                                       "-e", script)
    assert status.success?, err
    err
  end

  def test_a_missing_optional_gem_is_one_clear_line
    store = File.join(@dir, "store")
    err = without_gems(%w[pg], <<~RUBY)
      runner = HeapSift::Agent.start(store: #{store.inspect}, database_url: "postgres://nowhere/x", env: { "DYNO" => "web.1" })
      abort "the agent should run without signals" unless runner
    RUBY
    assert_match(/^heapsift-agent\[\d+\]: signals off: the pg gem is not installed: add gem "pg" to the Gemfile$/, err)
    err = without_gems(%w[aws-sdk-s3], <<~RUBY)
      abort "no store, no agent" if HeapSift::Agent.start(store: "s3://bucket/heaps/", env: { "DYNO" => "web.1" })
    RUBY
    assert_equal "not started: the aws-sdk-s3 gem is not installed: add gem \"aws-sdk-s3\" to the Gemfile",
                 err.lines.last.chomp.sub(/\Aheapsift-agent\[\d+\]: /, "")
  end

  def test_a_schedule_stores_dumps_in_the_layout_heapsift_reads
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent.start(dynos: 1, store: store, every: 2, env: { "DYNO" => "web.1" }, log: @log)
    refute_nil @runner
    keys = wait_for(10) { (k = stored_keys(store)).size >= 2 && k }
    keys.each { |key| assert_match KEY, key }
    @runner.stop
    refute File.exist?(@runner.spool_dir), "stored dumps leave no local file, nor an empty spool folder"
    context = context_of(store, keys.first)
    assert_equal({ "kind" => "schedule", "every" => 2, "message" => "scheduled dump every 2 s" }, context["trigger"])
    assert_equal [1, "web.1", Process.pid, RUBY_DESCRIPTION], context.values_at("version", "dyno", "pid", "ruby_description")
    assert_equal keys.first[%r{/(.{24})-process}, 1], context["time"], "the record's time is the key's"
    assert_operator context["rss_bytes"], :>, 1_000_000
    assert_operator context["rss_peak_bytes"], :>=, context["rss_bytes"]
    assert_operator context["gc"]["count"], :>=, 1
    assert_operator context["heap_pages_bytes"], :>, 0
    assert_equal File.size(File.join(store, keys.first)), context["compressed_bytes"]
    assert_operator context["dump_seconds"], :>, 0
    binary = ENV["HEAPSIFT_BIN"]
    return unless binary

    output = IO.popen([binary, "read", File.join(store, keys.first)], err: %i[child out], &:read)
    assert $?.success?, output
    assert_match(/Heap total/, output)
  end

  def test_either_compressor_writes_a_gzipped_dump_and_fails_cleanly
    compressors = HeapSift::Agent::Dumper::Compressor
    assert_equal compressors::Process, compressors.best, "this machine has gzip"
    assert_equal compressors::Thread, compressors.best(File.join(@dir, "no-bin"))
    [compressors::Process, compressors::Thread].each do |compressor|
      path = File.join(@dir, "#{compressor.name[/\w+\z/]}.dump.gz")
      dump = HeapSift::Agent::Dumper.dump(path, compressor: compressor)
      assert_equal File.size(path), dump.compressed_bytes
      lines = Zlib::GzipReader.open(path) { |gz| gz.each_line.first(3) }
      assert(lines.all? { |line| JSON.parse(line).key?("type") }, "#{compressor}: #{lines}")

      missing = File.join(@dir, "gone", "x.dump.gz")
      assert_raises(SystemCallError, IOError) { HeapSift::Agent::Dumper.dump(missing, compressor: compressor) }
      refute File.exist?(missing)
    end
  end

  # A store that fails while it is down.
  class FlakyStore < HeapSift::Agent::FolderStore
    attr_accessor :down

    def put(key, path)
      raise IOError, "store is down" if down

      super
    end
  end

  def test_failed_uploads_wait_in_a_bounded_spool_and_are_retried
    store = FlakyStore.new(File.join(@dir, "store"))
    store.down = true
    @runner = HeapSift::Agent::Runner.new(dyno: "web.1", store: store, log: @log,
                                          spool_dir: File.join(@dir, "spool")).start
    5.times { |i| @runner.request("r#{i}", "signal #{i}") }
    wait_for { @log_lines.call.grep(/dropped spooled dump/).size == 2 }
    spooled = Dir[File.join(@runner.spool_dir, "*.spooled")].map { |path| File.basename(path) }
    assert_equal 3, spooled.grep(/\.dump\.gz\.spooled\z/).size, spooled
    assert_equal 3, spooled.grep(/-heap\.json\.spooled\z/).size, "each spooled dump keeps its context: #{spooled}"
    assert_operator @log_lines.call.grep(/upload of web\.1\/.* failed: IOError: store is down/).size, :>=, 5
    store.down = false
    @runner.request("r5", "after the outage")
    keys = wait_for { (k = stored_keys(File.join(@dir, "store"))).size == 4 && k }
    keys.each { |key| assert_match KEY, key }
    wait_for { !File.exist?(@runner.spool_dir) }
    keys.each do |key|
      context = JSON.parse(File.read(File.join(@dir, "store", key.sub(".dump.gz", ".json"))))
      assert_equal "signal", context.dig("trigger", "kind"), "the spooled dumps kept their context: #{key}"
    end
    assert_equal ["signal 2", "signal 3", "signal 4", "after the outage"],
                 keys.map { |key| JSON.parse(File.read(File.join(@dir, "store", key.sub(".dump.gz", ".json"))))["trigger"]["message"] }
  end

  def test_requests_during_a_dump_are_not_lost
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent::Runner.new(dyno: "web.1", store: HeapSift::Agent::Store.for(store), log: @log).start
    3.times { |i| @runner.request("r#{i}", "burst #{i}") }
    assert_equal 3, wait_for { (k = stored_keys(store)).size == 3 && k }.size
  end
end
