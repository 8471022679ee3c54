//! `heapsift serve`: the API answers with the CLI's JSON for the same
//! report, refuses what it should, and keeps to loopback unless allowed
//! out with a token. (The page itself is tested in a real Chromium by
//! crates/heapsift-serve/ui-test.)

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use common::{agent_dump, context_record, heapsift, rails, scratch, write_record};
use serde_json::Value;

/// A running `heapsift serve`, stopped when dropped.
struct Server {
    child: Child,
    /// `host:port`
    address: String,
    /// The URL it printed.
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = heapsift(&["serve"])
            .args(args)
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("heapsift serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split(' ')
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        let address = url["http://".len()..].split('/').next().unwrap().to_owned();
        Server {
            child,
            address,
            url,
        }
    }

    /// (status, body) of a request, with extra header lines.
    fn request(&self, method: &str, path: &str, headers: &[&str]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("server reachable");
        let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {}\r\n", self.address);
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("a response");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_owned())
    }

    fn json(&self, path: &str) -> Value {
        let (status, body) = self.request("GET", path, &[]);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CLI's JSON for `heapsift ARGS... --format json`.
fn cli_json(args: &[&str]) -> Value {
    heapsift(args).args(["--format", "json"]).json()
}

#[test]
fn the_api_answers_with_the_clis_json() {
    let [one, two, three] = [rails(1), rails(2), rails(3)];
    let server = Server::start(&[&one, &two, &three, "--addr", "127.0.0.1:0"]);
    let dumps = server.json("/api/dumps");
    assert_eq!(dumps[2]["name"], three.as_str());

    let pairs: Vec<(String, Vec<&str>)> = vec![
        ("/api/dumps/2/summary".into(), vec!["read", &three]),
        ("/api/dumps/2/info".into(), vec!["info", &three]),
        (
            "/api/dumps/2/generations/36".into(),
            vec!["read", &three, "36"],
        ),
        (
            "/api/dumps/0/generations/all?lines=20".into(),
            vec!["read", &one, "all", "--lines", "20"],
        ),
        ("/api/dumps/2/retained".into(), vec!["retained", &three]),
        (
            "/api/dumps/2/retained?by=class&top=7".into(),
            vec!["retained", &three, "--by", "class", "--top", "7"],
        ),
        (
            "/api/trend?by=class&top=10".into(),
            vec!["trend", &one, &two, &three, "--by", "class", "--top", "10"],
        ),
        (
            "/api/diff?before=0&after=1&retained=2".into(),
            vec!["diff", &one, &two, &three],
        ),
        (
            "/api/diff?before=0&after=1".into(),
            vec!["diff", &one, &two],
        ),
        ("/api/suspects".into(), vec!["suspects", &one, &two, &three]),
        (
            "/api/suspects?top=1".into(),
            vec!["suspects", &one, &two, &three, "--top", "1"],
        ),
    ];
    for (path, args) in &pairs {
        assert_eq!(server.json(path), cli_json(args), "{path}");
    }

    // Objects: the Hash LeakyCache holds, its page, path and subtree.
    let hash = cli_json(&["retained", &three, "--top", "5"])["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["type"] == "HASH")
        .unwrap()["address"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, args) in [
        (
            format!("/api/dumps/2/objects/{hash}"),
            vec!["show", &three, &hash],
        ),
        (
            format!("/api/dumps/2/objects/{hash}/path"),
            vec!["path", &three, &hash],
        ),
        (
            format!("/api/dumps/2/retained?by=location&top=5&root={hash}"),
            vec![
                "retained", &three, "--by", "location", "--top", "5", "--root", &hash,
            ],
        ),
    ] {
        assert_eq!(server.json(&path), cli_json(&args), "{path}");
    }
    let show = server.json(&format!("/api/dumps/2/objects/{hash}"));
    assert!(show["record"].as_str().unwrap().contains(&hash));

    // The dominator tree, a level at a time: the roots' children, biggest
    // first, then the Hash's.
    let top = server.json("/api/dumps/2/dominators?top=3");
    assert_eq!(top["parent"], Value::Null);
    let children = top["children"].as_array().unwrap();
    assert_eq!(children.len(), 3);
    let retained = |row: &Value| row["retained_bytes"].as_u64().unwrap();
    assert!(retained(&children[0]) >= retained(&children[1]));
    let level = server.json(&format!("/api/dumps/2/dominators?of={hash}&top=100000"));
    assert_eq!(level["parent"]["address"], hash.as_str());
    let children = level["children"].as_array().unwrap();
    assert_eq!(level["child_count"], children.len());
    // 100 cached repos and their 100 keys.
    assert_eq!(
        children
            .iter()
            .filter(|c| c["class_name"] == "Repo")
            .count(),
        100
    );
    let below: u64 = children.iter().map(retained).sum();
    assert_eq!(
        below + level["parent"]["own_bytes"].as_u64().unwrap(),
        retained(&level["parent"])
    );
}

#[test]
fn an_objects_page_shows_its_own_line_from_any_block_of_any_input() {
    // rails-small/3 is 34 MB, nine blocks of lines: objects from its
    // first, middle and last, read from the gzip fixture, a plain copy and
    // a zstd copy.
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(rails(3)).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let dir = scratch("serve-lines");
    let plain = dir.join("3.dump");
    std::fs::write(&plain, &text).unwrap();
    let zstd = dir.join("3.dump.zst");
    std::fs::write(&zstd, zstd::encode_all(&text[..], 1).unwrap()).unwrap();
    let server = Server::start(&[
        &rails(3),
        plain.to_str().unwrap(),
        zstd.to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
    ]);
    let objects: Vec<(&str, String)> = std::str::from_utf8(&text)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let record: Value = serde_json::from_str(line).ok()?;
            let address = record["address"].as_str()?.to_owned();
            (record["type"] != "SHAPE").then_some((line, address))
        })
        .collect();
    let last = objects.len() - 1;
    for i in [0, 1, last / 3, last / 2, last * 2 / 3, last - 1, last] {
        let (line, address) = &objects[i];
        for dump in 0..3 {
            let page = server.json(&format!("/api/dumps/{dump}/objects/{address}"));
            assert_eq!(page["record"], *line, "dump {dump}, object {i}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_requests_get_4xx_with_a_reason() {
    let server = Server::start(&[&rails(3), "--addr", "127.0.0.1:0"]);
    for (path, status, reason) in [
        ("/api/dumps/1/summary", 404, "no dump number 1"),
        ("/api/dumps/x/summary", 404, "no dump number x"),
        (
            "/api/dumps/0/generations/new",
            400,
            "expected a generation number, `nil` or `all`, not `new`",
        ),
        (
            "/api/dumps/0/retained?top=many",
            400,
            "top must be a number, not `many`",
        ),
        (
            "/api/dumps/0/retained?by=gem",
            400,
            "by must be object, class or location, not `gem`",
        ),
        (
            "/api/dumps/0/objects/0x1",
            404,
            "no object at 0x1 in the dump",
        ),
        (
            "/api/dumps/0/objects/zzz",
            400,
            "expected an object address such as 0x7f30cc77e440, not `zzz`",
        ),
        ("/api/trend", 400, "a trend needs 2 dumps or more; 1 given"),
        (
            "/api/diff?before=0",
            400,
            "a diff needs before and after (dump numbers)",
        ),
        ("/api/files/etc/passwd", 404, "no such API"),
    ] {
        let (got, body) = server.request("GET", path, &[]);
        assert_eq!(got, status, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(body["error"], reason, "{path}");
    }
    // An absurd count is clamped: 10,000 rows of the dump's 112,000
    // objects, answered at once.
    let started = std::time::Instant::now();
    let (status, body) =
        server.request("GET", "/api/dumps/0/retained?by=object&top=1000000000", &[]);
    assert_eq!(status, 200, "{body}");
    let rows = serde_json::from_str::<Value>(&body).unwrap()["rows"]
        .as_array()
        .map(Vec::len);
    assert_eq!(rows, Some(10_000));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let (status, body) = server.request("GET", "/api/dumps/0/generations/all?lines=-1", &[]);
    assert_eq!(status, 400, "{body}");
    // Read-only.
    assert_eq!(server.request("POST", "/api/dumps", &[]).0, 405);
    assert_eq!(server.request("DELETE", "/api/dumps/0/summary", &[]).0, 405);
    // A page elsewhere that rebinds its name to 127.0.0.1 is refused.
    let mut stream = TcpStream::connect(&server.address).unwrap();
    stream
        .write_all(b"GET /api/dumps HTTP/1.0\r\nHost: attacker.example:80\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.0 403"), "{response}");
    // The page and its assets, from the binary.
    let (status, page) = server.request("GET", "/", &[]);
    assert_eq!(status, 200);
    assert!(page.contains("/assets/app.js"));
    assert_eq!(server.request("GET", "/assets/app.js", &[]).0, 200);
    assert_eq!(server.request("GET", "/assets/secret.txt", &[]).0, 404);
}

/// The same bad request gets the same message from the CLI (on stderr,
/// with its exit code) and from the API (as `{"error"}`, with the status
/// that stands for that exit code).
#[test]
fn the_cli_and_the_api_refuse_alike() {
    let dump = rails(3);
    let server = Server::start(&[&dump, "--addr", "127.0.0.1:0"]);
    let site_end = "statement.rb:99999";
    for (cli, api, code, status) in [
        (
            vec!["read", &dump, "99999"],
            "/api/dumps/0/generations/99999",
            1,
            404,
        ),
        (
            vec!["read", &dump, "nil"],
            "/api/dumps/0/generations/nil",
            1,
            404,
        ),
        (
            vec!["retained", &dump, "--root", "0xdead"],
            "/api/dumps/0/retained?root=0xdead",
            1,
            404,
        ),
        (
            vec!["show", &dump, "0xdead"],
            "/api/dumps/0/objects/0xdead",
            1,
            404,
        ),
        (
            vec!["path", &dump, "0xdead"],
            "/api/dumps/0/objects/0xdead/path",
            1,
            404,
        ),
        (vec!["trend", &dump], "/api/trend", 2, 400),
    ] {
        let cli_message = heapsift(&cli).fails(code).message().to_owned();
        let (got, body) = server.request("GET", api, &[]);
        assert_eq!(got, status, "{api}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        let api_message = format!("heapsift: {}", body["error"].as_str().unwrap());
        assert_eq!(cli_message, api_message, "{cli:?} and {api}");
    }
    // A value that can't be read: clap's usage error quotes the message the
    // API sends.
    for (cli, api) in [
        (vec!["read", &dump, "new"], "/api/dumps/0/generations/new"),
        (
            vec!["retained", &dump, "--root", "zzz"],
            "/api/dumps/0/retained?root=zzz",
        ),
        (
            vec!["retained", &dump, "--by", "gem"],
            "/api/dumps/0/retained?by=gem",
        ),
        (
            vec!["retained", &dump, "--top", "many"],
            "/api/dumps/0/retained?top=many",
        ),
        (
            vec!["read", &dump, "all", "--lines", "ten"],
            "/api/dumps/0/generations/all?lines=ten",
        ),
        (
            vec!["trend", &dump, &dump, "--by", "site"],
            "/api/trend?by=site",
        ),
    ] {
        let refused = heapsift(&cli).usage_error().stderr_text();
        let (got, body) = server.request("GET", api, &[]);
        assert_eq!(got, 400, "{api}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        let message = body["error"].as_str().unwrap();
        assert!(
            refused.contains(message),
            "{cli:?}: {refused}\n{api}: {message}"
        );
    }
    // The generation message names the dump and what it has.
    let message = heapsift(&["read", &dump, "99999"])
        .fails(1)
        .message()
        .to_owned();
    assert!(
        message.starts_with(&format!(
            "heapsift: {dump}: not a valid Generation: 99999; its generations are "
        )),
        "{message}"
    );
    // A site by the end of its path; nothing there is exit 1.
    heapsift(&["path", &dump, "--location", site_end])
        .fails(1)
        .assert_contains(site_end);
}

#[test]
fn other_machines_need_allow_remote_and_then_the_token() {
    heapsift(&["serve", &rails(3), "--addr", "0.0.0.0:0"])
        .fails(2)
        .assert_starts_with("heapsift: 0.0.0.0:0 can be reached from other machines");

    let server = Server::start(&[&rails(3), "--addr", "0.0.0.0:0", "--allow-remote"]);
    let token = server
        .url
        .split("?token=")
        .nth(1)
        .expect("a token in the URL");
    assert_eq!(token.len(), 32);
    assert_eq!(server.request("GET", "/api/dumps", &[]).0, 401);
    assert_eq!(
        server
            .request("GET", "/api/dumps", &["Authorization: Bearer wrong"])
            .0,
        401
    );
    let bearer = format!("Authorization: Bearer {token}");
    assert_eq!(server.request("GET", "/api/dumps", &[&bearer]).0, 200);
    assert_eq!(
        server
            .request("GET", &format!("/api/dumps?token={token}"), &[])
            .0,
        200
    );
    // The page itself holds no data and loads without it.
    assert_eq!(server.request("GET", "/", &[]).0, 200);
}

#[test]
fn serve_refuses_stdin_and_missing_dumps_before_serving() {
    heapsift(&["serve", "-", "--addr", "127.0.0.1:0"])
        .fails(2)
        .assert_starts_with("heapsift: -: serve reads a dump again");
    heapsift(&["serve", "/nonexistent/heap.dump", "--addr", "127.0.0.1:0"])
        .fails(2)
        .assert_starts_with("heapsift: /nonexistent/heap.dump: ");
}

#[test]
fn serve_takes_one_process_from_a_store_with_its_records() {
    let store = scratch("serve-store");
    let mut dumps = Vec::new();
    for (n, hour) in [(1, 10), (2, 11), (3, 12)] {
        let time = format!("2026-11-27T{hour}:00:00.000Z");
        let dump = agent_dump(&store, "web.1", &time, 21, std::path::Path::new(&rails(n)));
        if n != 2 {
            let rss = 600_000_000 + u64::from(n);
            write_record(&dump, &context_record("web.1", &time, 21, rss, "hourly"));
        }
        dumps.push(dump.to_str().unwrap().to_owned());
    }
    agent_dump(
        &store,
        "web.1",
        "2026-11-27T11:30:00.000Z",
        22,
        std::path::Path::new(&rails(1)),
    );
    let store = store.to_str().unwrap();

    // Two processes: refused as trend refuses them, before listening.
    heapsift(&["serve", store, "--addr", "127.0.0.1:0"])
        .fails(2)
        .assert_contains("holds the dumps of 2 processes: web.1 pid 21 (3 dumps,")
        .assert_contains("choose one with --pid");

    let server = Server::start(&[store, "--pid", "21", "--last", "2", "--addr", "127.0.0.1:0"]);
    let served: Vec<String> = server
        .json("/api/dumps")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(served, dumps[1..]);
    for (i, dump) in dumps[1..].iter().enumerate() {
        let info = server.json(&format!("/api/dumps/{i}/info"));
        assert_eq!(info, cli_json(&["info", dump]), "{dump}");
    }
    let last = server.json("/api/dumps/1/info");
    assert_eq!(last["process"]["rss_bytes"], 600_000_003);
    assert!(server.json("/api/dumps/0/info")["process"].is_null());
    let trend = server.json("/api/trend");
    assert_eq!(trend["rss_bytes"], serde_json::json!([null, 600_000_003]));
    assert_eq!(trend, cli_json(&["trend", &dumps[1], &dumps[2]]));
}
