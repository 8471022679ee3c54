# frozen_string_literal: true

# Tests of the agent with real dumps of this process and a real folder
# store. HEAPSIFT_BIN, when set, is the heapsift binary that must read them.
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
  end

  def test_a_schedule_stores_dumps_in_the_layout_heapsift_reads
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent.start(dynos: 1, store: store, every: 2, env: { "DYNO" => "web.1" }, log: @log)
    refute_nil @runner
    keys = wait_for(10) { (k = stored_keys(store)).size >= 2 && k }
    keys.each { |key| assert_match KEY, key }
    @runner.stop
    assert_empty Dir[File.join(@runner.spool_dir, "*.spooled")], "no upload failed"
    assert_operator Dir[File.join(@runner.spool_dir, "*.gz")].size, :<=, 1, "stored dumps leave no local file (one may be in flight)"
    binary = ENV["HEAPSIFT_BIN"]
    return unless binary

    output = IO.popen([binary, "read", File.join(store, keys.first)], err: %i[child out], &:read)
    assert $?.success?, output
    assert_match(/Heap total/, output)
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
    assert_equal 3, Dir[File.join(@runner.spool_dir, "*.spooled")].size
    assert_operator @log_lines.call.grep(/upload of web\.1\/.* failed: IOError: store is down/).size, :>=, 5
    store.down = false
    @runner.request("r5", "after the outage")
    keys = wait_for { (k = stored_keys(File.join(@dir, "store"))).size == 4 && k }
    keys.each { |key| assert_match KEY, key }
    assert_empty Dir[File.join(@runner.spool_dir, "*")]
  end

  def test_requests_during_a_dump_are_not_lost
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent::Runner.new(dyno: "web.1", store: HeapSift::Agent::Store.for(store), log: @log).start
    3.times { |i| @runner.request("r#{i}", "burst #{i}") }
    assert_equal 3, wait_for { (k = stored_keys(store)).size == 3 && k }.size
  end
end
