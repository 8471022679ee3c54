# frozen_string_literal: true

# The memory trigger: RSS and peak RSS of this process, the container's
# limit from cgroup files (real ones, and fake cgroup folders standing in
# for v1 and v2 containers), and dumps when RSS crosses the threshold.
require "json"
require_relative "test_helper"

class MemoryTest < Minitest::Test
  include AgentTestHelper

  MB = 1 << 20

  def setup
    setup_scratch_and_log("heapsift-memory-test")
  end

  def teardown
    @runner&.stop
    FileUtils.rm_rf(@dir)
  end

  # A cgroup root holding `files` (relative path => content).
  def fake_cgroup(files)
    root = File.join(@dir, "cgroup-#{files.hash.abs}")
    files.each do |path, content|
      FileUtils.mkdir_p(File.dirname(File.join(root, path)))
      File.write(File.join(root, path), content)
    end
    root
  end

  def test_rss_is_this_process_as_the_kernel_counts_it
    memory = HeapSift::Agent::Memory.new
    before = memory.rss
    kept = "x" * (64 * MB)
    kept.setbyte(0, 1) # touch it
    assert_operator memory.rss - before, :>=, 60 * MB, "64 MB more resident"
    now = memory.rss
    assert_operator memory.rss_peak, :>=, now
    assert_operator kept.bytesize, :>, 0
  end

  def test_without_proc_nothing_is_known
    memory = HeapSift::Agent::Memory.new(proc_dir: File.join(@dir, "no-proc"), cgroup_root: File.join(@dir, "none"))
    assert_nil memory.rss
    assert_nil memory.rss_peak
    assert_nil memory.limit
  end

  def test_an_rss_check_is_cheap
    memory = HeapSift::Agent::Memory.new
    memory.rss
    before = GC.stat(:total_allocated_objects)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    1000.times { memory.rss }
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    per_check = (GC.stat(:total_allocated_objects) - before) / 1000.0
    assert_operator per_check, :<, 0.1, "objects allocated per RSS check"
    assert_operator elapsed, :<, 1.0, "1000 checks took #{elapsed} s"
  end

  def test_the_limit_comes_from_cgroup_v2_or_v1
    v2 = fake_cgroup("memory.max" => "536870912\n")
    assert_equal 512 * MB, HeapSift::Agent::Memory.new(cgroup_root: v2).limit
    unlimited = fake_cgroup("memory.max" => "max\n")
    assert_nil HeapSift::Agent::Memory.new(cgroup_root: unlimited).limit
    v1 = fake_cgroup("memory/memory.limit_in_bytes" => "1073741824\n")
    assert_equal 1024 * MB, HeapSift::Agent::Memory.new(cgroup_root: v1).limit
    v1_unlimited = fake_cgroup("memory/memory.limit_in_bytes" => "9223372036854771712\n")
    assert_nil HeapSift::Agent::Memory.new(cgroup_root: v1_unlimited).limit
    assert_nil HeapSift::Agent::Memory.new(cgroup_root: File.join(@dir, "none")).limit
  end

  def test_a_threshold_is_bytes_or_a_share_of_the_limit
    threshold = HeapSift::Agent::Memory.method(:threshold)
    assert_equal 300 * MB, threshold.call(300 * MB, nil)
    assert_equal 400 * MB, threshold.call("80%", 500 * MB)
    assert_equal 250 * MB, threshold.call("50 %", 500 * MB)
    error = assert_raises(ArgumentError) { threshold.call("80%", nil) }
    assert_match(/needs a memory limit/, error.message)
    assert_raises(ArgumentError) { threshold.call("180%", 500 * MB) }
    assert_raises(ArgumentError) { threshold.call("lots", 500 * MB) }
    assert_raises(ArgumentError) { threshold.call(0, nil) }
  end

  def test_the_trigger_fires_once_per_crossing_and_interval
    trigger = HeapSift::Agent::MemoryTrigger.new(threshold: 100, min_interval: 60)
    assert trigger.due?(150, 0), "above: dump"
    refute trigger.due?(150, 10), "still above: no second dump"
    refute trigger.due?(50, 20), "below: rearmed"
    refute trigger.due?(150, 30), "above again, but within the interval"
    assert trigger.due?(150, 61), "above again after the interval"
    refute trigger.due?(nil, 200), "RSS unknown: nothing"
  end

  def test_rss_above_the_threshold_stores_one_dump_with_memory_as_its_trigger
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent.start(store: store, dump_above: 1 * MB, check_every: 0.2, min_interval: 3600,
                                    env: { "DYNO" => "web.1" }, log: @log)
    wait_for { Dir[File.join(store, "web.1", "*.dump.gz")].size == 1 }
    sleep 2 # ten more checks, all above the threshold
    dumps = Dir[File.join(store, "web.1", "*.dump.gz")]
    assert_equal 1, dumps.size, "one dump, not one per check"
    trigger = JSON.parse(File.read(dumps.first.sub(".dump.gz", ".json")))["trigger"]
    assert_equal "memory", trigger["kind"]
    assert_equal 1 * MB, trigger["threshold_bytes"]
    assert_operator trigger["rss_bytes"], :>, 1 * MB
    assert_includes @log_lines.call.first, "dumping when RSS reaches 1 MB"
  end

  def test_a_percentage_is_of_the_containers_limit
    limit = 3 * MB
    cgroup = fake_cgroup("memory.max" => "#{limit}\n")
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent.start(store: store, dump_above: "50%", check_every: 0.2, cgroup_root: cgroup,
                                    env: { "DYNO" => "web.1" }, log: @log)
    dump = wait_for { Dir[File.join(store, "web.1", "*.dump.gz")].first }
    context = JSON.parse(File.read(dump.sub(".dump.gz", ".json")))
    assert_equal limit / 2, context.dig("trigger", "threshold_bytes")
    assert_equal limit, context["memory_limit_bytes"]
  end

  def test_a_percentage_without_a_limit_is_said_and_the_rest_runs
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent.start(store: store, dump_above: "80%", cgroup_root: File.join(@dir, "none"),
                                    env: { "DYNO" => "web.1" }, log: @log)
    refute_nil @runner
    assert_includes @log_lines.call,
                    "no memory trigger: dump_above: 80% needs a memory limit, and no cgroup limit is set"
  end
end
