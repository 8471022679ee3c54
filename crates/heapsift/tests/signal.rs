//! `heapsift signal` against real agents (Ruby processes running
//! agent/ruby) and a real PostgreSQL server. Run through
//! scripts/with-postgres, which sets HEAPSIFT_TEST_DATABASE_URL.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{heapsift, read, scratch};

fn database_url() -> String {
    std::env::var("HEAPSIFT_TEST_DATABASE_URL").expect(
        "run the tests through scripts/with-postgres (HEAPSIFT_TEST_DATABASE_URL is not set)",
    )
}

/// A Ruby process running the agent as `dyno`, stopped when dropped.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts an agent and waits until it listens (or, when it is not a chosen
/// dyno, until it has started and done nothing).
fn agent(dyno: &str, store: &Path) -> Agent {
    agent_on(&database_url(), dyno, store)
}

/// Starts an agent listening on the given database.
fn agent_on(url: &str, dyno: &str, store: &Path) -> Agent {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../agent/ruby/lib");
    let script = r#"
        require "heapsift/agent"
        runner = HeapSift::Agent.start(dynos: 1, store: ARGV[0], database_url: ARGV[1])
        warn "agent ready: #{runner ? 'running' : 'not chosen'}"
        sleep
    "#;
    let mut child = Command::new("ruby")
        .arg("-I")
        .arg(lib)
        .arg("-e")
        .arg(script)
        .arg(store)
        .arg(url)
        .env("DYNO", dyno)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("these tests need Ruby and the pg gem");
    let (ready, wait) = mpsc::channel();
    let lines = BufReader::new(child.stderr.take().expect("stderr piped"));
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if line.contains("listening on") || line.contains("not chosen") {
                let _ = ready.send(());
            }
        }
    });
    wait.recv_timeout(Duration::from_secs(20))
        .expect("the agent starts");
    Agent(child)
}

#[test]
fn signal_waits_for_every_agent_and_prints_their_dumps() {
    let url = database_url();
    let dir = scratch("signal");
    let store = dir.join("store");
    let _agents = [
        agent("web.1", &store),
        agent("web.1", &store),
        agent("web.2", &store),
    ];

    let started = Instant::now();
    let printed = heapsift(&[
        "signal",
        "--wait",
        "--store",
        store.to_str().unwrap(),
        "--database-url",
        &url,
        "--timeout",
        "20",
        "it's a \"test\" — café",
    ])
    .stdout();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let dumps: Vec<&str> = printed.lines().collect();
    assert_eq!(dumps.len(), 2, "{dumps:?}");
    let pids: std::collections::BTreeSet<&str> = dumps
        .iter()
        .map(|path| {
            path.split("-process:")
                .nth(1)
                .and_then(|rest| rest.split('-').next())
                .unwrap()
        })
        .collect();
    assert_eq!(pids.len(), 2, "two different processes: {dumps:?}");
    for dump in &dumps {
        assert!(dump.contains("/web.1/"), "{dump}");
        assert!(read(dump, &[]).stdout().contains("Heap total"));
    }
    // Dumps only: agents store a context record beside each too.
    let stored = std::fs::read_dir(store.join("web.1"))
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".dump.gz")
        })
        .count();
    assert_eq!(stored, 2, "web.2 (not a chosen dyno) stored nothing");
    assert!(!store.join("web.2").exists());
}

#[test]
fn signal_without_agents_fails_after_the_timeout() {
    let url = database_url();
    let dir = scratch("signal-nobody");
    heapsift(&[
        "signal",
        "--wait",
        "--store",
        dir.to_str().unwrap(),
        "--database-url",
        &url,
        "--process-type",
        "nobody",
        "--timeout",
        "1.5",
    ])
    .fails(1)
    .assert_contains("no agent answered on heapsift_nobody_1..1");
}

#[test]
fn a_wrong_password_is_not_printed() {
    let failure = heapsift(&[
        "signal",
        "--database-url",
        "postgres://app:hunter2@127.0.0.1:1/x",
    ])
    .fails(2);
    failure.assert_contains("postgres://app:***@127.0.0.1:1/x");
    assert!(
        !failure.message().contains("hunter2"),
        "{}",
        failure.message()
    );
}

#[test]
fn signal_reaches_agents_on_a_server_that_accepts_tls_only() {
    let url = std::env::var("HEAPSIFT_TEST_TLS_DATABASE_URL").expect(
        "run the tests through scripts/with-postgres (HEAPSIFT_TEST_TLS_DATABASE_URL is not set)",
    );
    let ca =
        std::env::var("HEAPSIFT_TEST_PG_CA").expect("HEAPSIFT_TEST_PG_CA is set with the TLS URL");
    let store = scratch("signal-tls").join("store");
    let _agent = agent_on(&url, "web.1", &store);
    let signal = |database_url: &str| {
        heapsift(&[
            "signal",
            "--wait",
            "--store",
            store.to_str().unwrap(),
            "--database-url",
            database_url,
            "--timeout",
            "20",
        ])
    };

    // The server refuses plain text.
    signal(&format!("{url}?sslmode=disable"))
        .fails(2)
        .assert_contains("no encryption");

    // libpq's default (prefer): encrypted, the certificate not checked.
    assert_eq!(signal(&url).stdout().lines().count(), 1);

    // Checked against the server's CA, host name included.
    let verified = signal(&format!("{url}?sslmode=verify-full&sslrootcert={ca}")).stdout();
    assert_eq!(verified.lines().count(), 1);

    // The system's roots do not know the test CA.
    signal(&format!("{url}?sslmode=verify-full"))
        .fails(2)
        .assert_contains("certificate");
}

/// A stand-in for agents, in Ruby: LISTENs on `heapsift_fake_1` and
/// answers each request as three processes would: one with the `key` and
/// the `url` newer agents send, one with only the `key` of older ones, one
/// with only a url (`only_url`).
fn fake_agents(url: &str, only_url: &Path) -> Agent {
    let script = r#"
        require "pg"
        require "json"
        db = PG.connect(ARGV[0])
        db.exec("LISTEN heapsift_fake_1")
        warn "fake agents listening on heapsift_fake_1"
        loop do
          db.wait_for_notify do |_channel, _pid, payload|
            request = JSON.parse(payload)["request"]
            reply = ->(body) { db.exec_params("SELECT pg_notify('heapsift_replies', $1)", [JSON.generate(body.merge(request: request, dyno: "fake.1"))]) }
            reply.(pid: 1, status: "started")
            reply.(pid: 2, status: "started")
            reply.(pid: 3, status: "started")
            reply.(pid: 1, status: "stored", key: "fake.1/one-heap.dump.gz", url: "s3://b/prod/fake.1/one-heap.dump.gz")
            reply.(pid: 2, status: "stored", key: "fake.1/two-heap.dump.gz")
            reply.(pid: 3, status: "stored", url: ARGV[1])
          end
        end
    "#;
    let mut child = Command::new("ruby")
        .arg("-e")
        .arg(script)
        .arg(url)
        .arg(only_url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("these tests need Ruby and the pg gem");
    let lines = BufReader::new(child.stderr.take().expect("stderr piped"));
    let (ready, wait) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = ready.send(());
            }
        }
    });
    wait.recv_timeout(Duration::from_secs(20))
        .expect("the fake agents start");
    Agent(child)
}

#[test]
fn without_a_store_signal_prints_where_the_agents_say_they_stored() {
    let url = database_url();
    let store = scratch("signal-fake-store");
    let third = store.join("elsewhere/three-heap.dump.gz");
    std::fs::create_dir_all(third.parent().unwrap()).unwrap();
    std::fs::write(&third, "x").unwrap();
    let _agents = fake_agents(&url, &third);
    let signal = |extra: &[&str]| {
        heapsift(&[
            "signal",
            "--wait",
            "--process-type",
            "fake",
            "--database-url",
            &url,
        ])
        .args(["--timeout", "20"])
        .args(extra)
    };
    let printed = signal(&[]).stdout();
    let mut lines: Vec<&str> = printed.lines().collect();
    lines.sort();
    // The url when the agent sent one, else its key.
    assert_eq!(
        lines,
        [
            third.to_str().unwrap(),
            "fake.1/two-heap.dump.gz",
            "s3://b/prod/fake.1/one-heap.dump.gz",
        ]
    );

    // With --store, each dump is checked there by its key (or at its url,
    // for the agent that sent only that).
    std::fs::create_dir_all(store.join("fake.1")).unwrap();
    std::fs::write(store.join("fake.1/one-heap.dump.gz"), "x").unwrap();
    let checked = signal(&["--store", store.to_str().unwrap()]).run();
    assert_eq!(checked.code, Some(1), "{}", checked.stderr_text());
    let mut printed: Vec<String> = checked.stdout_text().lines().map(str::to_owned).collect();
    printed.sort();
    assert_eq!(
        printed,
        [
            store
                .join("elsewhere/three-heap.dump.gz")
                .display()
                .to_string(),
            store.join("fake.1/one-heap.dump.gz").display().to_string()
        ]
    );
    let error = checked.warning();
    assert!(
        error.contains("fake.1 (pid 2) stored fake.1/two-heap.dump.gz, but")
            && error.ends_with("does not exist"),
        "{error}"
    );
}
