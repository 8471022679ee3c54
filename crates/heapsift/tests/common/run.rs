//! Running the binary: a [`Heapsift`] command is built up, then run by one
//! of the methods that say what the test expects of it (success, JSON, a
//! one-line error); when that is not what happened, the panic shows the
//! command line, the exit code, stderr and stdout.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A `heapsift` command line to run: the built binary, arguments, and
/// optionally stdin, environment variables and a working folder.
#[derive(Clone, Debug, Default)]
pub struct Heapsift {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    env: Vec<(OsString, OsString)>,
    env_removed: Vec<OsString>,
    dir: Option<PathBuf>,
}

impl Heapsift {
    /// The binary with no arguments, stdin empty (`/dev/null`).
    pub fn new() -> Heapsift {
        Heapsift::default()
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Heapsift {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Heapsift
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Feeds `bytes` to heapsift's stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Heapsift {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Heapsift {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs without the environment variable `key`.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Heapsift {
        self.env_removed.push(key.as_ref().to_owned());
        self
    }

    /// Runs in `dir` instead of the test's working folder.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Heapsift {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// The command line as a shell would take it, for messages.
    fn command_line(&self) -> String {
        let mut line = String::new();
        if let Some(dir) = &self.dir {
            let _ = write!(line, "(cd {} && ", quote(dir.as_os_str()));
        }
        for key in &self.env_removed {
            let _ = write!(line, "env -u {} ", key.to_string_lossy());
        }
        for (key, value) in &self.env {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), quote(value));
        }
        line.push_str("heapsift");
        for arg in &self.args {
            line.push(' ');
            line.push_str(&quote(arg));
        }
        if let Some(bytes) = &self.stdin {
            let _ = write!(line, " < ({} bytes)", bytes.len());
        }
        if self.dir.is_some() {
            line.push(')');
        }
        line
    }

    /// A [`Command`] for the binary with these arguments, environment and
    /// folder, for tests that drive the process themselves (a server, a
    /// signal). Stdin given with [`Heapsift::stdin`] is not part of it.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heapsift"));
        command.args(&self.args);
        for key in &self.env_removed {
            command.env_remove(key);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    /// Runs heapsift to its end, whatever the outcome.
    #[track_caller]
    pub fn run(&self) -> Output {
        let mut child = self
            .command()
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{}: cannot start: {err}", self.command_line()));
        // Written from a thread: heapsift may print before it has read it all.
        let writer = self.stdin.clone().map(|bytes| {
            let mut pipe = child.stdin.take().expect("stdin piped");
            std::thread::spawn(move || {
                // heapsift may stop reading early (a bad dump): not an error here.
                let _ = pipe.write_all(&bytes);
            })
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|err| panic!("{}: did not finish: {err}", self.command_line()));
        if let Some(writer) = writer {
            writer.join().expect("stdin writer");
        }
        Output {
            command: self.command_line(),
            code: output.status.code(),
            stdout: output.stdout,
            stderr: output.stderr,
        }
    }

    /// Runs heapsift and asserts that it exits 0; stderr may hold warnings.
    #[track_caller]
    pub fn succeeds(&self) -> Output {
        let output = self.run();
        if output.code != Some(0) {
            output.fail("expected exit code 0");
        }
        output
    }

    /// Runs heapsift and asserts that it exits 0 with nothing on stderr.
    #[track_caller]
    pub fn succeeds_quietly(&self) -> Output {
        let output = self.succeeds();
        if !output.stderr.is_empty() {
            output.fail("expected nothing on stderr");
        }
        output
    }

    /// Runs heapsift, asserts that it exits 0, and returns stdout.
    #[track_caller]
    pub fn stdout(&self) -> String {
        self.succeeds().stdout_text()
    }

    /// Runs heapsift, asserts that it exits 0, and parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let output = self.succeeds();
        match serde_json::from_slice(&output.stdout) {
            Ok(value) => value,
            Err(err) => output.fail(&format!("stdout is not JSON ({err})")),
        }
    }

    /// Runs heapsift and asserts that it fails as the README says errors
    /// do: exit `code`, nothing on stdout, and on stderr exactly one line,
    /// starting `heapsift: `.
    #[track_caller]
    pub fn fails(&self, code: i32) -> Failure {
        let failure = self.fails_with_warnings(code);
        if !failure.warnings().is_empty() {
            failure
                .output
                .fail("expected one line on stderr, the error");
        }
        failure
    }

    /// Like [`Heapsift::fails`], but warnings (each a line starting
    /// `heapsift: `) may come before the error line, which is the last.
    #[track_caller]
    pub fn fails_with_warnings(&self, code: i32) -> Failure {
        let output = self.run();
        if output.code != Some(code) {
            output.fail(&format!("expected exit code {code}"));
        }
        if !output.stdout.is_empty() {
            output.fail("expected nothing on stdout");
        }
        let lines = output.stderr_lines();
        if lines.is_empty() {
            output.fail("expected an error on stderr");
        }
        Failure { output, lines }
    }

    /// Runs heapsift and asserts that the argument parser refused the
    /// command line: exit 2, nothing on stdout, and clap's `error: ...`
    /// message (with its usage hint, so more than one line) on stderr.
    #[track_caller]
    pub fn usage_error(&self) -> Output {
        let output = self.run();
        if output.code != Some(2) {
            output.fail("expected exit code 2 (a usage error)");
        }
        if !output.stdout.is_empty() {
            output.fail("expected nothing on stdout");
        }
        if !output.stderr_text().starts_with("error: ") {
            output.fail("expected the argument parser's `error: ` on stderr");
        }
        output
    }
}

/// `heapsift ARGS...`: shorthand for `Heapsift::new().args(args)`.
pub fn heapsift(args: &[&str]) -> Heapsift {
    Heapsift::new().args(args)
}

/// `heapsift read DUMP ARGS...`, the command most tests run.
pub fn read(dump: impl AsRef<OsStr>, args: &[&str]) -> Heapsift {
    Heapsift::new().arg("read").arg(dump).args(args)
}

/// How a run of heapsift ended.
#[derive(Clone, Debug)]
pub struct Output {
    /// The command line that ran, for messages.
    pub command: String,
    /// The exit code (`None` when a signal ended the process).
    pub code: Option<i32>,
    /// What heapsift printed on stdout.
    pub stdout: Vec<u8>,
    /// What heapsift printed on stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The one warning on stderr; asserts that there is exactly one line,
    /// starting `heapsift: `.
    #[track_caller]
    pub fn warning(&self) -> String {
        let mut lines = self.stderr_lines();
        if lines.len() != 1 {
            self.fail("expected exactly one line on stderr");
        }
        lines.remove(0)
    }

    /// Asserts that stderr holds `text`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) -> &Output {
        if !self.stderr_text().contains(text) {
            self.fail(&format!("expected {text:?} on stderr"));
        }
        self
    }

    /// The lines of stderr, without their newlines; asserts that stderr is
    /// whole lines each starting `heapsift: `.
    #[track_caller]
    fn stderr_lines(&self) -> Vec<String> {
        let text = self.stderr_text();
        if !text.is_empty() && !text.ends_with('\n') {
            self.fail("expected stderr to end with a newline");
        }
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.iter().any(|line| !line.starts_with("heapsift: ")) {
            self.fail("expected every line on stderr to start with `heapsift: `");
        }
        lines
    }

    /// Panics, saying that `what` was expected, with everything about the
    /// run: command line, exit code, stderr and stdout.
    #[track_caller]
    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\ncommand: {}\nexit code: {}\n--- stderr ---\n{}--- stdout ---\n{}",
            self.command,
            self.code
                .map_or_else(|| "none (killed by a signal)".to_owned(), |c| c.to_string()),
            shorten(&self.stderr_text()),
            shorten(&self.stdout_text()),
        )
    }
}

/// A failed run whose stderr is `heapsift: ` lines, the last the error.
#[derive(Clone, Debug)]
pub struct Failure {
    output: Output,
    /// Stderr's lines, at least one.
    lines: Vec<String>,
}

impl Failure {
    /// The error: stderr's last line, `heapsift: ...`, without its newline.
    pub fn message(&self) -> &str {
        self.lines.last().expect("an error line")
    }

    /// The lines before the error (none after [`Heapsift::fails`]).
    pub fn warnings(&self) -> &[String] {
        &self.lines[..self.lines.len() - 1]
    }

    /// Asserts that the error line holds `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Failure {
        self.check(
            self.message().contains(text),
            &format!("expected {text:?} in the error line"),
        )
    }

    /// Asserts that the error line starts with `prefix` (`heapsift: ` and
    /// more).
    #[track_caller]
    pub fn assert_starts_with(&self, prefix: &str) -> &Failure {
        self.check(
            self.message().starts_with(prefix),
            &format!("expected the error line to start with {prefix:?}"),
        )
    }

    /// The whole run.
    pub fn output(&self) -> &Output {
        &self.output
    }

    #[track_caller]
    fn check(&self, holds: bool, what: &str) -> &Failure {
        if !holds {
            self.output.fail(what);
        }
        self
    }
}

/// `text`, cut in the middle when it is too long for a panic message.
fn shorten(text: &str) -> String {
    const MAX: usize = 4000;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let head = text.floor_char_boundary(MAX / 2);
    let tail = text.ceil_char_boundary(text.len() - MAX / 2);
    format!(
        "{}\n[... {} bytes left out ...]\n{}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

/// `arg` quoted for a shell when it needs to be.
fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
