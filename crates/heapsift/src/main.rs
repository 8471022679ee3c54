//! The `heapsift` command line: a thin layer over the library crates that
//! parses arguments, runs a report, renders it, and maps failures to the exit
//! codes of architecture.md (0 ok, 1 nothing found for the request, 2 usage
//! errors and bad input).

mod cli;
mod context;
mod diff;
mod export;
mod failure;
mod fetch;
mod heap;
mod info;
mod list;
mod path;
mod print;
mod progress;
mod read;
mod redact;
mod retained;
mod scan;
mod series;
mod serve;
mod signal;
mod suspects;
mod trend;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Interrupted (Ctrl-C, or SIGTERM), a command that was writing a file
    // removes its temporary copy rather than leaving it behind; 130 is the
    // shell's code for a run ended by Ctrl-C.
    let _ = ctrlc::set_handler(|| {
        heapsift_output::remove_partial_files();
        std::process::exit(130);
    });
    let result = match cli.command {
        cli::Command::Read(args) => read::run(&args),
        cli::Command::Info(args) => info::run(&args),
        cli::Command::Suspects(args) => suspects::run(&args),
        cli::Command::Signal(args) => signal::run(&args),
        cli::Command::List(args) => list::run(&args),
        cli::Command::Fetch(args) => fetch::run(&args),
        cli::Command::Retained(args) => retained::run(&args),
        cli::Command::Diff(args) => diff::run(&args),
        cli::Command::Trend(args) => trend::run(&args),
        cli::Command::Serve(args) => serve::run(&args),
        cli::Command::Redact(args) => redact::run(&args),
        cli::Command::Path(args) => path::run_path(&args),
        cli::Command::Show(args) => path::run_show(&args),
        cli::Command::Export(args) => export::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
