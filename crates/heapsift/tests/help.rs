//! The help teaches: each command's `--help` names what it takes, once.

mod common;

use common::heapsift;

fn help(command: &str) -> String {
    heapsift(&[command, "--help"]).stdout()
}

#[test]
fn every_command_has_one_examples_block() {
    for command in [
        "read", "info", "diff", "trend", "retained", "path", "show", "serve", "redact", "signal",
        "list", "fetch", "suspects", "export",
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
    for command in ["read", "info", "retained", "path", "show", "redact"] {
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

#[test]
fn help_says_what_context_records_add() {
    let info = help("info");
    for said in ["context record", "RSS", "X.json", "bytes"] {
        assert!(info.contains(said), "info --help lacks {said:?}:\n{info}");
    }
    // `signal --wait` takes --store as an option, not a requirement.
    let signal = help("signal");
    assert!(
        signal.contains("heapsift signal --wait \"after deploy\""),
        "{signal}"
    );
    let list = help("list");
    assert!(list.contains(".dump.gz") && list.contains("RSS"), "{list}");
}
