//! `heapsift retained`: what keeps memory alive, on a real leaking app's
//! dump and on a small hand-written heap whose answers are worked out by
//! hand.

mod common;

use common::{fixture, heapsift, scratch};
use serde_json::Value;

/// ROOT -> A; A -> B, C; B -> D; C -> D; D -> E; F unreachable.
/// A is a Thing (class at 0xc1, which A keeps alive as the GC does: an
/// object marks its class) allocated at a.rb:1, the others at a.rb:2.
const HEAP: &str = r#"{"type":"ROOT", "root":"vm", "references":["0xa"]}
{"address":"0xc1", "type":"CLASS", "name":"Thing", "memsize":1}
{"address":"0xa", "type":"OBJECT", "class":"0xc1", "references":["0xb", "0xc", "0x999"], "file":"a.rb", "line":1, "memsize":10}
{"address":"0xb", "type":"ARRAY", "length":1, "references":["0xd"], "file":"a.rb", "line":2, "memsize":20}
{"address":"0xc", "type":"HASH", "size":1, "references":["0xd"], "file":"a.rb", "line":2, "memsize":30}
{"address":"0xd", "type":"STRING", "bytesize":5, "value":"hello", "references":["0xe"], "file":"a.rb", "line":2, "memsize":40}
{"address":"0xe", "type":"STRING", "bytesize":3, "value":"abc", "file":"a.rb", "line":2, "memsize":50}
{"address":"0xf", "type":"STRING", "bytesize":3, "value":"old", "memsize":60}
"#;

fn heap_file(name: &str) -> String {
    let path = scratch(name).join("heap.dump");
    std::fs::write(&path, HEAP).unwrap();
    path.to_str().unwrap().to_owned()
}

fn column<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row[key])
        .collect()
}

#[test]
fn retained_sizes_follow_the_dominator_tree() {
    let dump = heap_file("retained-objects");
    let report = heapsift(&["retained", &dump, "--format", "json"]).json();
    assert_eq!(report["total_bytes"], 211);
    assert_eq!(report["reachable"]["objects"], 6);
    assert_eq!(
        report["unreachable"],
        serde_json::json!({"objects": 1, "bytes": 60})
    );
    // B does not retain D: C reaches it too. A retains everything, its
    // class included.
    let addresses: Vec<&str> = column(&report, "address")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["0xa", "0xd", "0xe", "0xc", "0xb", "0xc1"]);
    let retained: Vec<u64> = column(&report, "retained_bytes")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(retained, [151, 90, 50, 30, 20, 1]);
    let counts: Vec<u64> = column(&report, "retained_count")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(counts, [6, 2, 1, 1, 1, 1]);
    let first = &report["rows"][0];
    assert_eq!(first["type"], "OBJECT");
    assert_eq!(first["class_name"], "Thing");
    assert_eq!(first["location"], "a.rb:1");
    assert_eq!(first["own_bytes"], 10);
    assert_eq!(first["description"], "Thing");
    let descriptions: Vec<&str> = column(&report, "description")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(descriptions[1], r#"String "hello" (5 B)"#);
    assert_eq!(descriptions[3], "Hash (1 entry)");
    assert_eq!(descriptions[4], "Array (1 item)");
}

#[test]
fn groups_count_nested_members_once() {
    let dump = heap_file("retained-groups");
    let report = heapsift(&["retained", &dump, "--by", "location", "--format", "json"]).json();
    // a.rb:2 holds B, C, D and E; E is under D, so counted once.
    assert_eq!(column(&report, "location"), ["a.rb:1", "a.rb:2"]);
    let retained: Vec<u64> = column(&report, "retained_bytes")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(retained, [151, 140]);
    let objects: Vec<u64> = column(&report, "objects")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(objects, [1, 4]);

    let report = heapsift(&["retained", &dump, "--by", "class", "--format", "json"]).json();
    assert_eq!(report["rows"][0]["class_name"], "Thing");
    assert_eq!(report["rows"][0]["retained_bytes"], 151);
    // The text says what each count is: MEMBERS are the group's own.
    let text = heapsift(&["retained", &dump, "--by", "location"]).stdout();
    assert!(
        text.contains("MEMBERS: the objects allocated there;"),
        "{text}"
    );
    let header = text.lines().find(|l| l.contains("ALLOCATED AT")).unwrap();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        ["RETAINED", "OBJECTS", "MEMBERS", "OWN", "ALLOCATED", "AT"]
    );
    // a.rb:1 is one object (MEMBERS) that keeps 6 alive (OBJECTS); sizes
    // read "151 B", two words.
    let row = text.lines().find(|l| l.ends_with("a.rb:1")).unwrap();
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(words[2..4], ["6", "1"], "{row}");
}

#[test]
fn root_shows_one_objects_subtree() {
    let dump = heap_file("retained-root");
    let report = heapsift(&["retained", &dump, "--root", "0xd", "--format", "json"]).json();
    assert_eq!(report["root"], "0xd");
    assert_eq!(column(&report, "address"), ["0xd", "0xe"]);

    assert_eq!(
        heapsift(&["retained", &dump, "--root", "0xdead"])
            .fails(1)
            .message(),
        "heapsift: no object at 0xdead in the dump"
    );
    heapsift(&["retained", &dump, "--root", "0xf"])
        .fails(1)
        .assert_contains("not reachable");
    heapsift(&["retained", &dump, "--root", "nonsense"]).usage_error();
}

#[test]
fn the_rails_leak_is_the_module_constant_and_its_hash() {
    let dump = fixture("rails-small/3.dump.gz");
    let dump = dump.to_str().unwrap();
    let text = heapsift(&["retained", dump, "--top", "5"]).stdout();
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("RETAINED"))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 5, "{text}");
    let module = rows
        .iter()
        .position(|r| r.contains("module LeakyCache"))
        .expect(&text);
    let hash = rows.iter().position(|r| r.contains("Hash (")).expect(&text);
    assert_eq!(hash, module + 1, "the Hash right under the module: {text}");

    let report = heapsift(&["retained", dump, "--top", "5", "--format", "json"]).json();
    let rows = report["rows"].as_array().unwrap();
    let module = &rows[rows
        .iter()
        .position(|r| r["description"] == "module LeakyCache")
        .unwrap()];
    assert_eq!(module["type"], "MODULE");
    assert_eq!(module["name"], "LeakyCache");
    assert!(
        module["retained_count"].as_u64().unwrap() > 20_000,
        "{module}"
    );
}

fn addresses_of(rows: &Value) -> Vec<&str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| row["address"].as_str().unwrap())
        .collect()
}

#[test]
fn path_is_the_shortest_chain_from_a_root() {
    let dump = heap_file("path");
    let path = heapsift(&["path", &dump, "0xe", "--format", "json"]).json();
    assert_eq!(path["target"], "0xe");
    assert_eq!(path["root"], "vm");
    // Through B (listed before C in A's references), not longer.
    assert_eq!(addresses_of(&path["hops"]), ["0xa", "0xb", "0xd", "0xe"]);
    assert_eq!(path["hops"][2]["retained_bytes"], 90);

    let text = heapsift(&["path", &dump, "0xe"]).stdout();
    assert!(text.contains("root: vm"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("-> "))
            .count(),
        4
    );

    heapsift(&["path", &dump, "0xf"])
        .fails(1)
        .assert_contains("not reachable");
}

#[test]
fn show_gives_neighbours_and_dominator() {
    let dump = heap_file("show");
    let details = heapsift(&["show", &dump, "0xd", "--format", "json"]).json();
    assert_eq!(details["object"]["retained_bytes"], 90);
    assert_eq!(details["length"], 5);
    assert_eq!(details["dominator"]["address"], "0xa");
    assert_eq!(addresses_of(&details["references"]), ["0xe"]);
    assert_eq!(addresses_of(&details["referrers"]), ["0xb", "0xc"]);
    assert_eq!(details["referrer_count"], 2);
    let line = HEAP
        .lines()
        .find(|l| l.contains(r#""address":"0xd""#))
        .unwrap();
    assert_eq!(details["record"], line, "the dump's own line");
    let text = heapsift(&["show", &dump, "0xd"]).stdout();
    assert!(text.contains(&format!("record: {line}")), "{text}");

    let details = heapsift(&["show", &dump, "0xa", "--format", "json"]).json();
    assert_eq!(details["root"], "vm");
    assert_eq!(details["dominator"], Value::Null);
    let details = heapsift(&["show", &dump, "0xf", "--format", "json"]).json();
    assert_eq!(details["reachable"], false);
    // One object is one, not "1 objects".
    let text = heapsift(&["show", &dump, "0xe"]).stdout();
    assert!(text.contains(" in 1 object\n"), "{text}");
    assert!(!text.contains("1 objects"), "{text}");
}

#[test]
fn the_path_to_a_cached_issue_goes_through_the_cache_hash() {
    let dump = fixture("rails-small/3.dump.gz");
    let dump = dump.to_str().unwrap();
    let top = heapsift(&["retained", dump, "--top", "5", "--format", "json"]).json();
    let hash = top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["type"] == "HASH")
        .expect("the cache's Hash in the top 5")["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let under_hash = heapsift(&[
        "retained", dump, "--root", &hash, "--top", "100000", "--format", "json",
    ])
    .json();
    let issue = under_hash["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["class_name"] == "Issue")
        .expect("cached Issue objects under the Hash")["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = heapsift(&["path", dump, &issue, "--format", "json"]).json();
    let hops = addresses_of(&path["hops"]);
    assert!(hops.contains(&hash.as_str()), "{hops:?} misses {hash}");
    let descriptions: Vec<&str> = path["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["description"].as_str().unwrap())
        .collect();
    assert!(
        descriptions.contains(&"module LeakyCache"),
        "{descriptions:?}"
    );
    assert_eq!(*descriptions.last().unwrap(), "Issue");
}

#[test]
fn paths_to_a_sites_objects_are_grouped_by_shape() {
    let dump = heap_file("path-location");
    let paths = heapsift(&["path", &dump, "--location", "a.rb:2", "--format", "json"]).json();
    assert_eq!(
        (paths["objects"].as_u64(), paths["reachable"].as_u64()),
        (Some(4), Some(4))
    );
    let groups = paths["groups"].as_array().unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
    heapsift(&["path", &dump, "--location", "nowhere.rb:1"]).fails(1);
    // ADDR or --location is required.
    heapsift(&["path", &dump]).usage_error();

    // The rails app's biggest site: nearly all its objects hang off the
    // cache in the same way.
    let dump = fixture("rails-small/3.dump.gz");
    let dump = dump.to_str().unwrap();
    let sites = heapsift(&[
        "retained", dump, "--by", "location", "--top", "1", "--format", "json",
    ])
    .json();
    let site = sites["rows"][0]["location"].as_str().unwrap().to_owned();
    let paths = heapsift(&["path", dump, "--location", &site, "--format", "json"]).json();
    let first = &paths["groups"][0];
    assert!(
        first["count"].as_u64().unwrap() * 10 >= paths["reachable"].as_u64().unwrap() * 9,
        "{first}"
    );
    let hops: Vec<&str> = first["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["description"].as_str().unwrap())
        .collect();
    assert!(hops.contains(&"module LeakyCache"), "{hops:?}");
}

#[test]
fn a_site_is_found_by_the_end_of_its_path() {
    // As `read` prints it, the rails app's statement cache site is
    // /usr/lib/ruby/vendor_ruby/sqlite3/statement.rb:108.
    let dump = fixture("rails-small/3.dump.gz");
    let dump = dump.to_str().unwrap();
    let by_end = |end: &str| heapsift(&["path", dump, "--location", end, "--format", "json"]);
    let short = by_end("statement.rb:108").json();
    let full = short["location"].as_str().unwrap().to_owned();
    assert!(
        full.ends_with("/sqlite3/statement.rb:108") && full.len() > 20,
        "{full}"
    );
    assert_eq!(by_end("sqlite3/statement.rb:108").json(), short);
    assert_eq!(by_end(&full).json(), short);
    assert!(short["objects"].as_u64().unwrap() > 1000, "{short}");
    // Only whole path parts match: `ement.rb:108` is not the end of a name.
    by_end("ement.rb:108").fails(1);

    // An end that two sites share is refused, naming both.
    let dir = scratch("ambiguous-site");
    let heap = dir.join("heap.dump");
    std::fs::write(
        &heap,
        concat!(
            r#"{"type":"ROOT", "root":"vm", "references":["0x1", "0x2"]}"#, "\n",
            r#"{"address":"0x1", "type":"STRING", "file":"app/models/a.rb", "line":1, "memsize":40}"#, "\n",
            r#"{"address":"0x2", "type":"STRING", "file":"lib/tasks/a.rb", "line":1, "memsize":40}"#, "\n",
        ),
    )
    .unwrap();
    let heap = heap.to_str().unwrap();
    let message = heapsift(&["path", heap, "--location", "a.rb:1"])
        .fails(2)
        .message()
        .to_owned();
    assert!(
        message.contains("app/models/a.rb:1") && message.contains("lib/tasks/a.rb:1"),
        "{message}"
    );
    let one = heapsift(&[
        "path",
        heap,
        "--location",
        "models/a.rb:1",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(one["location"], "app/models/a.rb:1");
}

#[test]
fn objects_keep_their_classes_alive_and_singleton_classes_are_named() {
    // Taken right after GC.start: all but a handful of objects are live,
    // singleton classes and what only they hold among them.
    let dump = fixture("rails-small/3.dump.gz");
    let dump = dump.to_str().unwrap();
    let report = heapsift(&["retained", dump, "--top", "1", "--format", "json"]).json();
    let unreachable = report["unreachable"]["objects"].as_u64().unwrap();
    assert!(unreachable <= 30, "{unreachable} unreachable");
    let path = heapsift(&["path", dump, "0x7fd331d6e2d0", "--format", "json"]).json();
    let hops = path["hops"].as_array().unwrap();
    assert_eq!(hops.last().unwrap()["description"], "#<Class:LeakyCache>");
    assert!(hops.iter().any(|h| h["description"] == "module LeakyCache"));
    let by_class = heapsift(&["retained", dump, "--by", "class", "--format", "json"]).json();
    assert!(
        column(&by_class, "class_name").contains(&&Value::from("#<Class:LeakyCache>")),
        "{by_class}"
    );

    // By hand: the singleton class of an object, an IMEMO by its kind, and
    // two singleton classes of each other (no Ruby writes that; heapsift
    // must not loop).
    let dir = scratch("names");
    let heap = dir.join("heap.dump");
    std::fs::write(
        &heap,
        concat!(
            r#"{"type":"ROOT", "root":"vm", "references":["0x8", "0x1", "0x3", "0x4"]}"#, "\n",
            r#"{"address":"0x1", "type":"OBJECT", "class":"0x2", "memsize":40}"#, "\n",
            r#"{"address":"0x2", "type":"CLASS", "superclass":"0x9", "singleton":true, "references":["0x1"], "memsize":400}"#, "\n",
            r#"{"address":"0x9", "type":"CLASS", "name":"Issue", "memsize":400}"#, "\n",
            r#"{"address":"0x8", "type":"OBJECT", "class":"0x2", "memsize":40}"#, "\n",
            r#"{"address":"0x3", "type":"IMEMO", "imemo_type":"ment", "memsize":48}"#, "\n",
            r#"{"address":"0x4", "type":"CLASS", "class":"0x5", "singleton":true, "references":["0x5"], "memsize":400}"#, "\n",
            r#"{"address":"0x5", "type":"CLASS", "class":"0x4", "singleton":true, "references":["0x4"], "memsize":400}"#, "\n",
        ),
    )
    .unwrap();
    let heap = heap.to_str().unwrap();
    let describe = |address: &str| {
        heapsift(&["show", heap, address, "--format", "json"]).json()["object"]["description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The singleton class belongs to the object it references, not to the
    // first object whose class it is (0x8 stands for the singleton class
    // of one of the object's singleton classes, whose class it also is),
    // and the object is still an Issue.
    assert_eq!(describe("0x2"), "#<Class:#<Issue 0x1>>");
    let object = heapsift(&["show", heap, "0x1", "--format", "json"]).json();
    assert_eq!(object["object"]["class_name"], "Issue");
    assert_eq!(describe("0x3"), "method entry");
    assert!(
        describe("0x4").starts_with("#<Class:#<Class:"),
        "{}",
        describe("0x4")
    );
}

#[test]
fn every_fixture_format_gives_a_consistent_graph() {
    for set in ["edge", "rails-small", "versions"] {
        for entry in std::fs::read_dir(fixture(set)).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".dump.gz") {
                continue;
            }
            let dump = path.to_str().unwrap();
            let report = heapsift(&["retained", dump, "--top", "3", "--format", "json"]).json();
            let reachable = &report["reachable"];
            let unreachable = &report["unreachable"];
            let total =
                reachable["bytes"].as_u64().unwrap() + unreachable["bytes"].as_u64().unwrap();
            assert_eq!(report["total_bytes"].as_u64(), Some(total), "{dump}");
            assert!(reachable["objects"].as_u64().unwrap() > 0, "{dump}");
            let rows = report["rows"].as_array().unwrap();
            for row in rows {
                assert!(
                    row["retained_bytes"].as_u64() <= reachable["bytes"].as_u64(),
                    "{dump}: {row}"
                );
                assert!(
                    row["retained_bytes"].as_u64() >= row["own_bytes"].as_u64(),
                    "{dump}: {row}"
                );
            }
            // Each top object has a path from a root and a show page.
            let address = rows[0]["address"].as_str().unwrap();
            let path = heapsift(&["path", dump, address, "--format", "json"]).json();
            assert_eq!(
                path["hops"].as_array().unwrap().last().unwrap()["address"],
                address,
                "{dump}"
            );
            let details = heapsift(&["show", dump, address, "--format", "json"]).json();
            assert_eq!(
                details["object"]["retained_bytes"], rows[0]["retained_bytes"],
                "{dump}"
            );
        }
    }
}

#[test]
fn imemo_and_none_class_fields_are_not_classes() {
    // Ruby 3.1 writes a `class` on IMEMO records that is not their class,
    // and NONE records carry the free list's next pointer there.
    let heap = r#"{"type":"ROOT", "root":"vm", "references":["0x10", "0x20", "0x30"]}
{"address":"0xc1", "type":"CLASS", "name":"Foo", "memsize":1}
{"address":"0x10", "type":"IMEMO", "class":"0xc1", "imemo_type":"ment", "memsize":40}
{"address":"0x20", "type":"NONE", "class":"0xc1"}
{"address":"0x30", "type":"OBJECT", "class":"0xc1", "memsize":40}
"#;
    let path = scratch("imemo").join("heap.dump");
    std::fs::write(&path, heap).unwrap();
    let report = heapsift(&[
        "retained",
        path.to_str().unwrap(),
        "--top",
        "10",
        "--format",
        "json",
    ])
    .json();
    for row in report["rows"].as_array().unwrap() {
        let expected = if row["type"] == "OBJECT" {
            Value::from("Foo")
        } else {
            Value::Null
        };
        assert_eq!(row["class_name"], expected, "{row}");
    }
    let groups = heapsift(&[
        "retained",
        path.to_str().unwrap(),
        "--by",
        "class",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(
        groups["rows"].as_array().unwrap().len(),
        1,
        "only the OBJECT counts as a Foo"
    );
}
