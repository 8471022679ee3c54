//! heapsift's `read` output is byte-identical to the expected output of every
//! fixture in ../shared/fixtures (real dumps of Ruby 3.1 to 4.0, and the
//! hand-written edge cases).

mod common;

use common::{Heapsift, fixture};

/// The `read` arguments that produce each kind of expected file.
fn read_args(expected_name: &str) -> Option<(String, Vec<String>)> {
    let stem_and_kind = expected_name.strip_suffix(".txt")?;
    let (stem, kind) = stem_and_kind.rsplit_once('.')?;
    let args = match kind {
        "read" => vec![],
        "all" => vec!["all".into(), "--lines".into(), "100000".into()],
        other if other.starts_with("gen") => {
            vec![other[3..].to_owned(), "--lines".into(), "20".into()]
        }
        _ => return None,
    };
    Some((format!("{stem}.dump.gz"), args))
}

#[test]
fn read_matches_every_fixture_byte_for_byte() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for set in ["edge", "rails-small", "versions"] {
        let dir = fixture(set);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("fixture folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let Some((dump, args)) = read_args(&name) else {
                continue;
            };
            let output = Heapsift::new()
                .arg("read")
                .arg(dir.join(&dump))
                .args(args)
                .run();
            let expected = std::fs::read(dir.join(&name)).expect("expected output");
            checked += 1;
            if output.code != Some(0) || output.stdout != expected {
                failures.push(format!(
                    "{set}/{name}: exit {:?}, stderr {}",
                    output.code,
                    output.stderr_text()
                ));
            } else {
                assert!(
                    output.stderr.is_empty(),
                    "{set}/{name}: unexpected warnings: {}",
                    output.stderr_text()
                );
            }
        }
    }
    assert!(checked >= 30, "only {checked} expected outputs found");
    assert!(
        failures.is_empty(),
        "outputs differ:\n{}",
        failures.join("\n")
    );
}
