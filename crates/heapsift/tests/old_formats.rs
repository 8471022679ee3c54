//! Ruby 2.x and 3.0 dumps can't be made on this machine, so these lines are
//! written by hand from dump-format.md (its samples and version table), and
//! the expected reports were worked out by hand from them.

mod common;

use common::{read, scratch};

const DUMP: &str = concat!(
    // 2.1 root category (line 1)
    r#"{"type":"ROOT", "root":"symbols", "references":["0x7fb1f800c948"]}"#,
    "\n",
    // 2.x class with its own klass (line 2)
    r#"{"address":"0x7fb1f800cb78", "type":"CLASS", "class":"0x7fb1f800cba0", "name":"Foo", "references":["0x7fb1f800cbc8"], "memsize":520, "flags":{"wb_protected":true, "old":true, "uncollectible":true, "marked":true}}"#,
    "\n",
    // 2.x IMEMO with a class field (heapy counts it), traced (line 3)
    r#"{"address":"0x7fb1f800c948", "type":"IMEMO", "class":"0x7fb1f800cb78", "imemo_type":"ment", "references":["0x7fb1f8046670", "0x7fb1f800c998"], "file":"/app/foo.rb", "line":3, "generation":7, "memsize":48, "flags":{"wb_protected":true, "old":true, "uncollectible":true, "marked":true}}"#,
    "\n",
    // ZOMBIE stops after class (line 4)
    r#"{"address":"0x7fb1f8122288", "type":"ZOMBIE", "class":"0x7fb1f807f308"}"#,
    "\n",
    // 2.x FLOAT written by libc as "nan" (line 5)
    r#"{"address":"0x7fb1f80a5f08", "type":"FLOAT", "class":"0x7fb1f80a63b8", "frozen":true, "value":"nan", "file":"/app/foo.rb", "line":4, "generation":7, "memsize":40, "flags":{"wb_protected":true}}"#,
    "\n",
    // 2.7: raw non-ASCII method name, valid UTF-8 (line 6)
    r#"{"address":"0x7fc3cd1399b0", "type":"STRING", "class":"0x7fc3cd0bb5d8", "embedded":true, "bytesize":2, "value":"12", "encoding":"UTF-8", "file":"/tmp/alloc.rb", "line":5, "method":"utf8_❨╯°□°❩╯︵┻━┻", "generation":10, "memsize":40, "flags":{"wb_protected":true}}"#,
    "\n",
    // 3.0: non-ASCII method written as \u00ff plus NUL bytes (line 7)
    "{\"address\":\"0x7fc3cd1399d8\", \"type\":\"STRING\", \"class\":\"0x7fc3cd0bb5d8\", \"embedded\":true, \"bytesize\":2, \"value\":\"12\", \"file\":\"/tmp/alloc.rb\", \"line\":5, \"method\":\"m\\u00ff\0\0\0\0\0\0\\u00ff\0\0\0\0\0\0x\", \"generation\":10, \"memsize\":40}\n",
    // 2.1-2.5 on Windows: %p addresses, uppercase, no 0x (line 8)
    r#"{"address":"00007FF6A1B2C3D4", "type":"CLASS", "name":"Win", "memsize":40}"#,
    "\n",
    // an unescaped Windows path (line 9)
    r#"{"address":"00007FF6A1B2C3E0", "type":"OBJECT", "class":"00007FF6A1B2C3D4", "ivars":3, "file":"C:\app\w.rb", "line":1, "generation":10, "memsize":40}"#,
    "\n",
    r#"{"address":"0x7fc3cd0bb5d8", "type":"CLASS", "name":"String", "memsize":600}"#,
    "\n",
    // 2.x: (null) file, no line, decimal escape bug in the value (line 11)
    r#"{"address":"0x7fc3cd139a00", "type":"STRING", "class":"0x7fc3cd0bb5d8", "bytesize":3, "value":"a\u0027b", "file":"(null)", "generation":10, "memsize":40}"#,
    "\n",
    // 2.4 NODE (line 12)
    r#"{"address":"0x7fc3cd139a28", "type":"NODE", "node_type":"NODE_SCOPE", "file":"/app/foo.rb", "line":4, "generation":7, "memsize":72}"#,
    "\n",
);

const SUMMARY: &str = "
Analyzing Heap
==============
Generation: nil object count: 5, mem: 1.1 kb
Generation:   7 object count: 3, mem: 0.2 kb
Generation:  10 object count: 4, mem: 0.2 kb

Heap total
==============
Generations (active): 3
Count: 12
Memory: 1.4 kb
";

const ALL: &str = r#"
Analyzing Heap (Generation: all)
-------------------------------

allocated by memory (320) (in bytes)
==============================
  112  /app/foo.rb:4
   80  /tmp/alloc.rb:5
   48  /app/foo.rb:3
   40  (null):
   40  C:\app\w.rb:1

object count (7)
==============================
  2  /app/foo.rb:4
  2  /tmp/alloc.rb:5
  1  (null):
  1  /app/foo.rb:3
  1  C:\app\w.rb:1

object counts by class
==============================
  3  String
  1  Foo
  1  Win

High Ref Counts
==============================

  2  /app/foo.rb:3

Duplicate strings
==============================

 2  "12"
 2  /tmp/alloc.rb:5

"#;

#[test]
fn ruby_2_and_3_0_lines_are_read_as_written() {
    let dir = scratch("old-formats");
    let dump = dir.join("old.dump");
    std::fs::write(&dump, DUMP).unwrap();

    let summary = read(&dump, &[]).succeeds();
    assert_eq!(summary.stdout_text(), SUMMARY);
    let all = read(&dump, &["all"]).succeeds();
    assert_eq!(all.stdout_text(), ALL);
    for output in [summary, all] {
        let err = output.stderr_text();
        assert!(
            err.contains("old.dump: recovered 2 lines that strict JSON rejects")
                && err.contains("(lines 7, 9)"),
            "{err}"
        );
        assert!(!err.contains("skipped"), "{err}");
    }
}
