//! The help teaches: each command's `--help` names what it takes, once.

mod common;

use common::heapsift;

fn help(command: &str) -> String {
    heapsift(&[command, "--help"]).stdout()
}

#[test]
fn every_command_has_one_examples_block() {
    for command in [
        "read", "diff", "trend", "retained", "path", "show", "serve", "redact", "signal", "list",
        "fetch",
    ] {
        let text = help(command);
        assert_eq!(
            text.matches("Examples:").count(),
            1,
            "{command} --help:\n{text}"
        );
    }
}

#[test]
fn dumps_are_named_as_every_command_takes_them() {
    // read, like the other analysis commands, streams s3:// objects.
    for command in ["read", "retained", "path", "show", "redact"] {
        let text = help(command);
        assert!(text.contains("s3://"), "{command} --help:\n{text}");
    }
    // `nil` is a generation, as the summary prints it.
    assert!(help("read").contains("`nil`"));
}

#[test]
fn the_formats_are_described_without_heapy() {
    // list's tables are heapsift's own, not heapy's.
    let text = help("list");
    assert!(text.contains("--format"), "{text}");
    assert!(!text.contains("heapy"), "{text}");
}
