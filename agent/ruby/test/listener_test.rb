# frozen_string_literal: true

# The agent against a real PostgreSQL server: signals, replies, and a
# connection that drops. Run through scripts/with-postgres, which sets
# HEAPSIFT_TEST_DATABASE_URL.
require "json"
require "open3"
require "pg"
require_relative "test_helper"

class ListenerTest < Minitest::Test
  include AgentTestHelper

  def setup
    @url = ENV.fetch("HEAPSIFT_TEST_DATABASE_URL") do
      flunk "run me through scripts/with-postgres (HEAPSIFT_TEST_DATABASE_URL is not set)"
    end
    setup_scratch_and_log("heapsift-listener-test")
    @client = PG.connect(@url)
    @client.exec("LISTEN heapsift_replies")
  end

  def teardown
    @runner&.stop
    @client&.close
    FileUtils.rm_rf(@dir)
  end

  def signal(payload)
    @client.exec_params("SELECT pg_notify($1, $2)", ["heapsift_web_1", payload])
  end

  # Replies until one says stored or failed.
  def replies
    received = []
    deadline = Time.now + 10
    until received.any? { |r| %w[stored failed].include?(r["status"]) }
      raise "no final reply; got #{received}" if Time.now > deadline

      @client.wait_for_notify(1) { |_channel, _pid, payload| received << JSON.parse(payload) }
    end
    received
  end

  def test_a_signal_dumps_and_replies_and_survives_a_dropped_connection
    store = File.join(@dir, "store")
    @runner = HeapSift::Agent.start(dynos: 1, store: store, database_url: @url, env: { "DYNO" => "web.1" }, log: @log)
    wait_for { @log_lines.call.include?("listening on heapsift_web_1") }

    message = %(it's a "quoted" message — café ✓)
    started = Time.now
    signal(JSON.generate(request: "req-1", message: message))
    answers = replies
    assert_operator Time.now - started, :<, 5
    assert_equal %w[started stored], answers.map { |r| r["status"] }
    answers.each do |reply|
      assert_equal "req-1", reply["request"]
      assert_equal "web.1", reply["dyno"]
      assert_equal Process.pid, reply["pid"]
    end
    assert_equal message, answers.first["message"], "the message arrives intact in the reply"
    assert_includes @log_lines.call, "signal received: #{message}", "and in the log"
    assert File.file?(File.join(store, answers.last["key"])), "the stored key names the dump in the store"
    assert_equal File.join(store, answers.last["key"]), answers.last["url"], "and the url where it is"

    # The connection drops: the agent reconnects and listens again.
    @client.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'heapsift-agent listen'")
    wait_for { @log_lines.call.include?("reconnected; listening on heapsift_web_1") }
    signal("plain text is taken as the message")
    answers = replies
    assert_equal "stored", answers.last["status"]
    assert_nil answers.last["request"]
    assert_equal "plain text is taken as the message", answers.first["message"]
    assert_equal 2, Dir[File.join(store, "web.1", "*.gz")].size
  end

  def start_agent(store)
    @runner = HeapSift::Agent.start(dynos: 1, store: store, database_url: @url, env: { "DYNO" => "web.1" }, log: @log)
    wait_for { @log_lines.call.include?("listening on heapsift_web_1") }
  end

  def test_a_signal_from_ruby_returns_what_the_agents_stored
    store = File.join(@dir, "store")
    start_agent(store)
    outcome = HeapSift::Agent.signal("from the console", database_url: @url, wait: true, timeout: 10)
    assert outcome.success?, outcome.inspect
    assert_equal 1, outcome.urls.size
    url = outcome.urls.first
    assert File.file?(url), url
    context = JSON.parse(File.read(url.sub(".dump.gz", ".json")))
    assert_equal({ "kind" => "signal", "message" => "from the console", "request" => outcome.request }, context["trigger"])

    sent = HeapSift::Agent.signal("no waiting", database_url: @url)
    assert_empty sent.finished
    wait_for { Dir[File.join(store, "web.1", "*.dump.gz")].size == 2 }
  end

  def heapsift_agent(*args)
    Open3.capture3("ruby", File.expand_path("../exe/heapsift-agent", __dir__), *args)
  end

  def test_the_gem_executable_signals_and_prints_the_stored_dumps
    store = File.join(@dir, "store")
    start_agent(store)
    out, err, status = heapsift_agent("signal", "--wait", "--database-url", @url, "hourly, from the scheduler")
    assert status.success?, err
    assert_equal Dir[File.join(store, "web.1", "*.dump.gz")], out.lines.map(&:chomp)

    _out, err, status = heapsift_agent("signal", "--wait", "--timeout", "1.5", "--process-type", "worker",
                                       "--database-url", @url)
    assert_equal 1, status.exitstatus
    assert_equal "heapsift-agent: no agent answered on heapsift_worker_1..1 within 1.5 s (is the agent running with " \
                 "database_url?)\n", err

    _out, err, status = heapsift_agent("dump")
    assert_equal 2, status.exitstatus
    assert_match(/\Aheapsift-agent: invalid argument: unknown command "dump"/, err)
  end
end
