//! `heapsift signal`: NOTIFY the agents, then collect their replies.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tls::TlsSettings;

/// The channel agents answer on.
pub const REPLIES: &str = "heapsift_replies";

/// What to signal, and how long to wait for answers.
#[derive(Debug, Clone)]
pub struct SignalOptions {
    /// A libpq connection string or URL (`postgres://...`). `sslmode` has
    /// libpq's meaning (see the tls module): encrypted when the server
    /// allows, certificates checked only with `verify-ca`/`verify-full`.
    pub database_url: String,
    /// How many dynos of the process type run the agent (channels 1..=dynos).
    pub dynos: u32,
    /// The process type, e.g. `web`.
    pub process_type: String,
    /// Free text the agents log and echo.
    pub message: String,
    /// Wait for the replies this long at most; `None` sends and returns.
    pub wait: Option<Duration>,
    /// After the last reply, how long to wait for more processes.
    pub settle: Duration,
}

/// One agent's answer on `heapsift_replies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The request id, when the signal carried one.
    pub request: Option<String>,
    /// The dyno, e.g. `web.1`.
    pub dyno: String,
    /// The process id.
    pub pid: u64,
    /// `started`, `stored` or `failed`.
    pub status: String,
    /// The dump's key in the store, once stored.
    pub key: Option<String>,
    /// Where the dump was stored, in full (`s3://bucket/prefix/web.1/...`
    /// or a path), once stored; agents before this field send only `key`.
    #[serde(default)]
    pub url: Option<String>,
    /// The request's message (with `started`) or what happened.
    pub message: Option<String>,
}

/// What a signal achieved.
#[derive(Debug, Clone, Default)]
pub struct Signalled {
    /// The request id sent to the agents.
    pub request: String,
    /// The final reply of every process that started a dump (stored or
    /// failed), by dyno and pid; empty when not waiting.
    pub finished: Vec<Reply>,
    /// Processes that started but did not finish in time, as (dyno, pid).
    pub unfinished: Vec<(String, u64)>,
}

/// Why signalling failed.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// Connecting to or talking with Postgres failed.
    #[error("postgres: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The options make no sense (e.g. no dynos).
    #[error("{0}")]
    Usage(String),
}

/// The error with what caused it: tokio-postgres says only "db error" or
/// "error connecting to server" and keeps the server's words in the source.
fn describe(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends a dump request to every dyno's channel; with `wait`, LISTENs on
/// `heapsift_replies` first and collects the answers to this request.
pub fn signal(options: &SignalOptions) -> Result<Signalled, SignalError> {
    if options.dynos == 0 {
        return Err(SignalError::Usage("--dynos must be at least 1".into()));
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SignalError::Usage(format!("cannot start the runtime: {e}")))?
        .block_on(run(options))
}

async fn run(options: &SignalOptions) -> Result<Signalled, SignalError> {
    let tls = TlsSettings::from_connection_string(&options.database_url);
    let connector = MakeRustlsConnect::new(tls.client_config()?);
    let (client, mut connection) =
        tokio_postgres::connect(&tls.connection_string, connector).await?;
    let (notifications, mut received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        // The connection delivers NOTIFY messages only when polled.
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(notification) = message
                && notifications
                    .send(notification.payload().to_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    if options.wait.is_some() {
        client.batch_execute(&format!("LISTEN {REPLIES}")).await?;
    }
    let request = request_id();
    let payload = serde_json::json!({ "request": request, "message": options.message }).to_string();
    for dyno in 1..=options.dynos {
        let channel = format!("heapsift_{}_{dyno}", options.process_type);
        client
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .await?;
    }
    let mut outcome = Signalled {
        request: request.clone(),
        ..Signalled::default()
    };
    let Some(wait) = options.wait else {
        return Ok(outcome);
    };

    let deadline = Instant::now() + wait;
    let mut last_reply: Option<Instant> = None;
    let mut running: BTreeMap<(String, u64), Option<Reply>> = BTreeMap::new();
    loop {
        let all_done = !running.is_empty() && running.values().all(Option::is_some);
        let settled = last_reply.is_some_and(|at| at.elapsed() >= options.settle);
        if (all_done && settled) || Instant::now() >= deadline {
            break;
        }
        let poll =
            Duration::from_millis(100).min(deadline.saturating_duration_since(Instant::now()));
        let Ok(Some(payload)) = tokio::time::timeout(poll, received.recv()).await else {
            continue;
        };
        let Ok(reply) = serde_json::from_str::<Reply>(&payload) else {
            continue;
        };
        if reply.request.as_deref() != Some(request.as_str()) {
            continue;
        }
        // Any reply shows a process at work, even one whose `started` got
        // lost: wait for others from then on.
        last_reply = Some(Instant::now());
        let process = (reply.dyno.clone(), reply.pid);
        match reply.status.as_str() {
            "started" => {
                running.entry(process).or_insert(None);
            }
            "stored" | "failed" => {
                running.insert(process, Some(reply));
            }
            _ => {}
        }
    }
    for (process, reply) in running {
        match reply {
            Some(reply) => outcome.finished.push(reply),
            None => outcome.unfinished.push(process),
        }
    }
    Ok(outcome)
}

/// A request id unlikely to repeat: the time and process id, hashed with
/// the standard library's random keys.
fn request_id() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let hash = RandomState::new().hash_one((now, std::process::id()));
    format!("{hash:016x}")
}
