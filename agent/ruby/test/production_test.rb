# frozen_string_literal: true

# The whole capture workflow with real parts only: a Puma cluster (two
# workers, preload_app!) with the agent in on_worker_boot, a PostgreSQL
# server for the signals, an S3-compatible server (s3s-fs) for the store,
# and the heapsift binary that signals, lists, fetches and reads. Also what
# production throws at it: a Postgres restart and an S3 outage.
#
# Run through scripts/with-postgres and scripts/with-s3 (scripts/test does),
# with HEAPSIFT_BIN naming the heapsift binary.
require "json"
require "net/http"
require "open3"
require "pg"
require "socket"
require "timeout"
require_relative "test_helper"
require_relative "../lib/heapsift/agent/s3_store"

class ProductionTest < Minitest::Test
  include AgentTestHelper

  APP = File.join(__dir__, "puma_app")
  LIB = File.expand_path("../lib", __dir__)
  # Quotes, an apostrophe, a backslash and non-ASCII text: what a shell or
  # string-built SQL would break.
  MESSAGE = %(it's "after deploy" \\ größer — 内存 ✓)

  def setup
    @database_url = required_env("HEAPSIFT_TEST_DATABASE_URL", "scripts/with-postgres")
    @pg_ctl = required_env("HEAPSIFT_TEST_PG_CTL", "scripts/with-postgres")
    @bucket = required_env("HEAPSIFT_TEST_S3_BUCKET", "scripts/with-s3")
    @s3_ctl = required_env("HEAPSIFT_TEST_S3_CTL", "scripts/with-s3")
    @heapsift = required_env("HEAPSIFT_BIN", "HEAPSIFT_BIN=target/debug/heapsift")
    setup_scratch_and_log("heapsift-production-test")
    @pumas = []
  end

  def teardown
    @pumas.each { |puma| stop_puma(puma) }
    system(@s3_ctl, "start", out: File::NULL) unless s3_up?
    FileUtils.rm_rf(@dir)
  end

  def test_a_signal_dumps_every_worker_of_the_chosen_dyno_only
    store = "s3://#{@bucket}/signal/"
    web1 = start_puma("web.1", store)
    web2 = start_puma("web.2", store)
    3.times { get(web1) }

    urls, replies = signal!(store, "--dynos", "2", MESSAGE)
    assert_equal 2, urls.size, urls
    assert(urls.all? { |url| url.start_with?("#{store}web.1/") }, urls)
    assert_equal web1[:workers].sort, urls.map { |url| pid_of(url) }.sort

    # The web.2 agent (dynos: 1) did nothing at all.
    refute_match(/tracing allocations|signal received/, File.read(web2[:log]))
    listed = JSON.parse(heapsift!("list", store, "--format", "json"))
    assert_equal urls.sort, listed.map { |dump| dump["url"] }.sort
    assert_equal %w[web.1 web.1], listed.map { |dump| dump["dyno"] }

    # The message arrived intact, in the log and in the replies.
    assert_equal 2, File.read(web1[:log]).scan("signal received: #{MESSAGE}").size
    answers = replies.select { |reply| reply["status"] == "started" }
    assert_equal [MESSAGE, MESSAGE], answers.map { |reply| reply["message"] }
    assert_equal web1[:workers].sort, answers.map { |reply| reply["pid"] }.sort

    # The stored dumps read straight from S3; the requests' strings are
    # counted where config.ru allocated them (Rack shifts its line numbers).
    # Puma may have given all three requests to one worker: one of the two
    # dumps has them.
    assert_match(/^Generation: +\d+ object count: \d+/, heapsift!("read", urls.first))
    assert(urls.any? { |url| heapsift!("read", url, "all").match?(%r{^ +\d+  \S+/puma_app/config\.ru:\d+$}) },
           "no generation report has a row for config.ru")
  end

  # The article's workflow from Ruby: `rails c` (here a plain Ruby process)
  # signals, waits and gets the stored dumps; so does the gem executable,
  # and heapsift's own signal still works with the same agents.
  def test_a_signal_from_ruby_returns_every_workers_dump
    store = "s3://#{@bucket}/from-ruby/"
    web1 = start_puma("web.1", store)
    console = <<~RUBY
      require "heapsift/agent"
      outcome = HeapSift::Agent.signal(ARGV[0], wait: true, timeout: 30)
      puts outcome.urls
      exit outcome.success?
    RUBY
    from_ruby, ruby_seconds = timed { ruby!("-e", console, MESSAGE) }
    assert_equal web1[:workers].sort, from_ruby.lines.map { |url| pid_of(url) }.sort
    assert(from_ruby.lines.all? { |url| url.start_with?("#{store}web.1/") }, from_ruby)
    (from_heapsift, _replies), heapsift_seconds = timed { signal!(store) }
    assert_operator ruby_seconds, :<=, heapsift_seconds + 0.5, "Ruby's signal --wait is no slower than heapsift's"
    assert_equal web1[:workers].sort, from_heapsift.map { |url| pid_of(url) }.sort
    from_executable = ruby!(File.expand_path("../exe/heapsift-agent", __dir__), "signal", "--wait", "hourly")
    assert_equal web1[:workers].sort, from_executable.lines.map { |url| pid_of(url) }.sort
    listed = JSON.parse(heapsift!("list", store, "--format", "json"))
    assert_equal 6, listed.size, "three signals, two workers: six dumps, and no context record listed as one"
    listed.each { |dump| assert_equal "signal", dump.dig("context", "trigger", "kind"), dump }
  end

  # What the dump cannot say, said by heapsift info from the stored record.
  def test_info_compares_the_processs_rss_with_the_dumps_objects
    store = "s3://#{@bucket}/info/"
    start_puma("web.1", store)
    url = signal!(store, MESSAGE).first.first
    info = JSON.parse(heapsift!("info", url, "--format", "json"))
    context = info["context"]
    %w[rss_bytes rss_peak_bytes].each { |field| assert_kind_of Integer, context[field], field }
    assert_kind_of Integer, info["objects_bytes"]
    assert_operator info["objects_bytes"], :>, 0
    assert_equal context["rss_bytes"] - info["objects_bytes"], info["gap_bytes"]
    assert_equal({ "kind" => "signal", "message" => MESSAGE }, context["trigger"].slice("kind", "message"))
    text = heapsift!("info", url)
    assert_match(/RSS/, text)
    assert_match(/peak/i, text)
    assert_includes text, MESSAGE
    assert_match(/outside Ruby objects/, text)
  end

  def test_memory_above_the_threshold_stores_one_dump_per_worker
    store = "s3://#{@bucket}/memory/"
    web1 = start_puma("web.1", store, "HEAPSIFT_DUMP_ABOVE" => (10 << 20).to_s)
    sleep 20
    listed = JSON.parse(heapsift!("list", store, "--format", "json"))
    assert_equal web1[:workers].sort, listed.map { |dump| dump["pid"] }.sort, "one dump per worker in 20 s"
    listed.each do |dump|
      context = dump["context"]
      assert_equal "memory", context.dig("trigger", "kind")
      assert_equal 10 << 20, context.dig("trigger", "threshold_bytes")
      assert_operator context.dig("trigger", "rss_bytes"), :>=, 10 << 20
    end
  end

  # What the stored dumps are worth: live objects only, and a series per
  # process that shows the app's leak.
  def test_stored_dumps_are_clean_and_trend_follows_one_process
    store = "s3://#{@bucket}/trend/"
    web1 = start_puma("web.1", store)
    3.times do
      requests_to_each_worker(web1, 5)
      signal!(store)
    end
    listed = JSON.parse(heapsift!("list", store, "--format", "json"))
    listed.each do |dump|
      retained = JSON.parse(heapsift!("retained", dump["url"], "--top", "1", "--format", "json"))
      share = retained.dig("unreachable", "bytes").fdiv(retained["total_bytes"])
      assert_operator share, :<=, 0.01, "#{dump['url']}: #{(share * 100).round(1)} % of the bytes are unreachable"
    end
    _out, err, status = heapsift("trend", store)
    assert_equal 2, status.exitstatus
    assert_match(/holds the dumps of 2 processes: .*choose one with --pid/, err)
    pid = web1[:workers].first
    trend = JSON.parse(heapsift!("trend", store, "--pid", pid.to_s, "--format", "json"))
    first = trend["rows"].first
    assert_equal [true, "STRING"], first.values_at("steady", "type"), first
    assert_match(%r{/puma_app/config\.ru:\d+\z}, first["location"])
  end

  def test_fetch_keeps_a_copy_and_never_overwrites_one
    store = "s3://#{@bucket}/fetch/"
    start_puma("web.1", store)
    url = signal!(store).first.first
    copy = File.join(@dir, "copy.dump.gz")

    heapsift!("fetch", url, copy)
    assert_match(/^Generation:/, heapsift!("read", copy))
    record = JSON.parse(File.read(File.join(@dir, "copy.json")))
    assert_equal pid_of(url), record["pid"], "fetch brings the context record along, beside the copy"
    File.write(copy, "mine")
    _out, err, status = heapsift("fetch", url, copy)
    assert_equal 2, status.exitstatus
    assert_match(/exists already; pass --force/, err)
    assert_equal "mine", File.read(copy)
    heapsift!("fetch", url, copy, "--force")
    assert_equal heapsift!("read", url), heapsift!("read", copy)
  end

  def test_the_agents_listen_again_after_a_postgres_restart
    store = "s3://#{@bucket}/restart/"
    web1 = start_puma("web.1", store)
    before, = signal!(store)
    assert_equal 2, before.size

    # Both the listening and the replying connections die here.
    system(@pg_ctl, "stop", exception: true)
    system(@pg_ctl, "start", exception: true)
    wait_for(30) { File.read(web1[:log]).scan("reconnected; listening on heapsift_web_1").size == 2 }

    urls, replies = signal!(store)
    assert_equal web1[:workers].sort, urls.map { |url| pid_of(url) }.sort
    assert_empty urls & before
    web1[:workers].each do |pid|
      assert_equal %w[started stored], replies.select { |reply| reply["pid"] == pid }.map { |reply| reply["status"] }
    end
  end

  def test_an_s3_outage_keeps_the_app_serving_and_loses_no_dump
    store = "s3://#{@bucket}/outage/"
    web1 = start_puma("web.1", store)

    system(@s3_ctl, "stop", exception: true)
    serving = Thread.new do
      Array.new(20) do
        sleep 0.1
        get(web1)
      end
    end
    _out, err, status = heapsift("signal", "--wait", "--store", store, "--timeout", "30")
    refute status.success?, "signal should report the failed uploads"
    assert_match(/failed/, err)
    assert_equal 20, serving.value.count { |response| response.is_a?(Net::HTTPOK) }
    # The workers log the failure before they reply, but Puma's log file
    # may take a moment to show it (CI once saw one of the two lines).
    wait_for(10) { File.read(web1[:log]).scan(/upload of \S+ failed/).size >= 2 }
    assert_equal 2, File.read(web1[:log]).scan(/upload of \S+ failed/).size

    system(@s3_ctl, "start", exception: true)
    urls, = signal!(store)
    assert_equal web1[:workers].sort, urls.map { |url| pid_of(url) }.sort

    # The dumps taken during the outage were stored before the new ones.
    listed = JSON.parse(heapsift!("list", store, "--format", "json"))
    assert_equal 4, listed.size, listed
    assert_equal (web1[:workers] * 2).sort, listed.map { |dump| dump["pid"] }.sort
    assert_equal urls.sort, listed.first(2).map { |dump| dump["url"] }.sort
    assert_equal 2, File.read(web1[:log]).scan("retrying spooled dump").size
  end

  def test_big_dumps_go_up_in_parts
    big = File.join(@dir, "big.dump.gz")
    size = HeapSift::Agent::S3Store::MULTIPART_THRESHOLD * 2 + 12_345
    File.binwrite(big, Random.new(7).bytes(size))
    store = HeapSift::Agent::Store.for("s3://#{@bucket}/big")
    parts = []
    counting = ->(_bytes, totals) { parts = totals }
    store.put("web.1/big.dump.gz", big, progress: counting)
    assert_operator parts.size, :>=, 3, "uploaded in #{parts.size} part(s)"

    copy = File.join(@dir, "copy.gz")
    heapsift!("fetch", store.location("web.1/big.dump.gz"), copy)
    assert File.binread(big) == File.binread(copy), "the fetched copy differs from the upload"
  end

  private

  def required_env(name, how)
    ENV.fetch(name) { flunk "#{name} is not set: run me through #{how} (scripts/test does)" }
  end

  # Starts a Puma cluster as the given dyno and waits until both workers
  # booted (and, on a chosen dyno, listen for signals).
  def start_puma(dyno, store, extra_env = {})
    port = free_port
    log = File.join(@dir, "puma-#{dyno}.log")
    env = {
      "PORT" => port.to_s, "DYNO" => dyno, "HEAPSIFT_STORE" => store, "DATABASE_URL" => @database_url,
      "RUBYLIB" => [LIB, ENV.fetch("RUBYLIB", nil)].compact.join(File::PATH_SEPARATOR)
    }.merge(extra_env)
    # One file descriptor for both: two would overwrite each other's lines.
    pid = spawn(env, "puma", "-C", File.join(APP, "puma.rb"), %i[out err] => [log, "w"], chdir: @dir)
    puma = { pid: pid, port: port, log: log }
    @pumas << puma
    puma[:workers] = wait_for(30) do
      booted = File.read(log).scan(/Worker \d \(PID: (\d+)\) booted/).flatten.map(&:to_i)
      booted if booted.size == 2
    end
    wait_for(30) { File.read(log).scan("listening on heapsift_web_1").size == 2 } if dyno == "web.1"
    puma
  end

  def stop_puma(puma)
    Process.kill("TERM", puma[:pid])
    Timeout.timeout(15) { Process.wait(puma[:pid]) }
  rescue Timeout::Error
    Process.kill("KILL", puma[:pid])
    Process.wait(puma[:pid])
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  def get(puma)
    Net::HTTP.get_response(URI("http://127.0.0.1:#{puma[:port]}/"))
  end

  # Sends requests until each worker answered at least `count` of them
  # (the body is the worker's pid).
  def requests_to_each_worker(puma, count)
    answered = Hash.new(0)
    200.times do
      break if puma[:workers].all? { |pid| answered[pid] >= count }

      answered[get(puma).body.to_i] += 1
    end
    assert(puma[:workers].all? { |pid| answered[pid] >= count }, "requests per worker: #{answered}")
  end

  def timed
    started = Time.now
    [yield, Time.now - started]
  end

  # Runs Ruby with the agent's lib and DATABASE_URL, as `rails c` would;
  # returns its output, failing the test if it failed.
  def ruby!(*args)
    out, err, status = Open3.capture3({ "DATABASE_URL" => @database_url }, "ruby", "-I", LIB, *args)
    assert status.success?, "ruby #{args.first} failed: #{err}"
    out
  end

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  def s3_up?
    TCPSocket.new(URI(ENV.fetch("AWS_ENDPOINT_URL")).host, URI(ENV.fetch("AWS_ENDPOINT_URL")).port).close
    true
  rescue SystemCallError
    false
  end

  def heapsift(*args)
    Open3.capture3({ "DATABASE_URL" => @database_url }, @heapsift, *args)
  end

  # Runs heapsift and returns its output, failing the test if it failed.
  def heapsift!(*args)
    out, err, status = heapsift(*args)
    assert status.success?, "heapsift #{args.join(' ')} failed: #{err}"
    out
  end

  # Runs `heapsift signal --wait`, checks that it succeeded within 10 s, and
  # returns the URLs it printed and the agents' replies to it.
  def signal!(store, *args)
    replies = PG.connect(@database_url)
    replies.exec("LISTEN heapsift_replies")
    started = Time.now
    out = heapsift!("signal", "--wait", "--store", store, *args)
    elapsed = Time.now - started
    assert_operator elapsed, :<, 10, "signal --wait took #{elapsed.round(1)} s"
    [out.lines.map(&:chomp), drain(replies)]
  ensure
    replies&.close
  end

  def pid_of(url)
    url[/-process:(\d+)-/, 1].to_i
  end

  # Every notification that has arrived on the connection, parsed.
  def drain(connection)
    received = []
    while connection.wait_for_notify(0.2) { |_channel, _pid, payload| received << JSON.parse(payload) }
    end
    received
  end
end
