//! The README's examples: every `$ heapsift ...` line in its code blocks is
//! run from the repository root (on the dumps shipped in `examples/`), must
//! exit 0 with no warnings, and must print every output line the README
//! shows under it, in that order.

mod common;

use common::{Heapsift, repo_root};

/// One `$ heapsift ...` line of the README and the output shown under it.
#[derive(Debug)]
struct Example {
    /// The README's line number of the command, for messages.
    line: usize,
    /// The command line after `$ `.
    command: String,
    /// The lines shown after it, up to the next command or the block's end.
    shown: Vec<String>,
}

/// The `$ heapsift` examples in the fenced code blocks of `markdown`.
fn examples(markdown: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut in_block = false;
    // Output lines belong to the latest heapsift command of the block.
    let mut current: Option<Example> = None;
    for (index, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            examples.extend(current.take());
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            examples.extend(current.take());
            if command.starts_with("heapsift ") {
                current = Some(Example {
                    line: index + 1,
                    command: command.to_owned(),
                    shown: Vec::new(),
                });
            }
        } else if let Some(example) = &mut current {
            example.shown.push(line.to_owned());
        }
    }
    assert!(
        !in_block,
        "the README has a code block that is never closed"
    );
    examples
}

/// Why an example is not run here, if it is not.
fn skipped_because(command: &str) -> Option<&'static str> {
    if command.starts_with("heapsift signal") {
        // tests/signal.rs runs signal against real agents and PostgreSQL.
        Some("signal needs PostgreSQL and agents")
    } else if command.contains("s3://") {
        // tests/store.rs runs read, list, fetch, diff and trend on s3://
        // URLs against a real S3-compatible server (scripts/with-s3); the
        // README's bucket is a made-up one.
        Some("it needs an S3 server holding the README's bucket")
    } else {
        None
    }
}

/// The words of `command` as the shell would pass them: split at spaces,
/// with brace lists (`{1,2,3}.dump.gz`) expanded. Anything else a shell
/// would interpret is refused, so that no example runs differently here.
fn words(example: &Example) -> Vec<String> {
    let command = &example.command;
    assert!(
        !command.contains(|c| "'\"\\|&;<>()$`*?[]~#".contains(c)),
        "README line {}: `{command}` uses shell syntax this test does not run",
        example.line
    );
    command.split_whitespace().flat_map(expand_braces).collect()
}

/// `a{1,2}b{x,y}` -> `a1bx a1by a2bx a2by`.
fn expand_braces(word: &str) -> Vec<String> {
    let Some(open) = word.find('{') else {
        return vec![word.to_owned()];
    };
    let close = open
        + word[open..]
            .find('}')
            .unwrap_or_else(|| panic!("an unclosed brace in `{word}`"));
    let (prefix, choices, suffix) = (&word[..open], &word[open + 1..close], &word[close + 1..]);
    choices
        .split(',')
        .flat_map(|choice| expand_braces(&format!("{prefix}{choice}{suffix}")))
        .collect()
}

/// `line` with every run of spaces made one, trailing ones removed.
fn normalise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, part) in line.trim_end().split(' ').enumerate() {
        if i > 0 && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// Whether a shown line stands for lines the README leaves out.
fn is_elided(line: &str) -> bool {
    line.trim() == "..."
}

#[test]
fn every_readme_example_prints_what_the_readme_shows() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    for example in examples(&readme) {
        if let Some(reason) = skipped_because(&example.command) {
            skipped.push(format!("line {}: {reason}", example.line));
            continue;
        }
        let words = words(&example);
        assert_eq!(words[0], "heapsift");
        // A fresh clone has only the repository: no `../shared`, no /tmp.
        for word in &words {
            assert!(
                !word.starts_with("../") && !word.starts_with('/'),
                "README line {}: `{word}` is outside the repository",
                example.line
            );
        }
        let output = Heapsift::new()
            .args(&words[1..])
            .current_dir(&root)
            .succeeds_quietly();
        let printed: Vec<String> = output.stdout_text().lines().map(normalise).collect();
        let mut from = 0;
        for shown in example.shown.iter().filter(|l| !is_elided(l)) {
            let wanted = normalise(shown);
            match printed[from..].iter().position(|line| *line == wanted) {
                Some(at) => from += at + 1,
                None => output.fail(&format!(
                    "README line {}: `{}` does not print, after the lines before it, the \
                     line the README shows:\n{shown}",
                    example.line, example.command
                )),
            }
        }
        ran.push(example.command);
    }
    // read (twice), diff, trend, retained and path at the time of writing;
    // fewer means the examples are no longer found.
    assert!(
        ran.len() >= 6,
        "only {} README examples ran: {ran:?} (skipped: {skipped:?})",
        ran.len()
    );
}

#[test]
fn the_example_parser_finds_commands_and_their_output() {
    let markdown = "text\n$ heapsift outside\n```\n$ heapsift read a{1,2}.gz\none\n  two  words\n...\n$ other\nnot shown\n```\n```sh\n$ heapsift list s3://b/\n```\n";
    let found = examples(markdown);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].line, 4);
    assert_eq!(found[0].shown, ["one", "  two  words", "..."]);
    assert_eq!(words(&found[0]), ["heapsift", "read", "a1.gz", "a2.gz"]);
    assert!(found[1].shown.is_empty());
    assert!(skipped_because(&found[1].command).is_some());
    assert_eq!(normalise("  two  words  "), " two words");
    assert!(is_elided("        ..."));
    assert!(!is_elided("(.../x.rb:1)"));
}
