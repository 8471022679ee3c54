//! `/api/`: the reports of the loaded dumps as JSON, in the CLI's shapes.
//! Parameters mirror the CLI's options and defaults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use heapsift_graph::{DominatorLevel, Grouping, ObjectDetails, RetainedReport, RootPath};
use heapsift_parse::parse_address;
use heapsift_reports::{DiffReport, GenerationSelector, Trend, TrendGrouping};
use serde::Serialize;

use crate::{LoadedDump, Served};

/// References and referrers an object page lists at most, as `show`.
const SHOWN: usize = 50;

/// A failed request: its status and a one-line reason, sent as
/// `{"error": "..."}`.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// A parameter is missing or malformed (400).
    BadRequest(String),
    /// The API needs the token (401).
    Unauthorized,
    /// No such dump, generation or object (404).
    NotFound(String),
    /// The report could not be made (500).
    Failed(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "this server needs the token it printed at start".to_owned(),
            ),
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, message),
            ApiError::Failed(message) => (StatusCode::INTERNAL_SERVER_ERROR, message),
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

type Answer<T> = Result<Json<T>, ApiError>;

/// Held while an object's line is looked for: that reads the whole dump.
static RECORD_LOOKUPS: Mutex<()> = Mutex::new(());

/// Runs a report on a thread of its own, so that a slow one (walking
/// millions of objects, reading a dump again) never holds up the others.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Answer<T> + Send + 'static,
) -> Answer<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(ApiError::Failed(e.to_string())))
}
type Params = Query<HashMap<String, String>>;

pub(crate) fn routes(served: Arc<Served>) -> Router {
    Router::new()
        .route("/api/dumps", get(dumps))
        .route("/api/dumps/{dump}/summary", get(summary))
        .route(
            "/api/dumps/{dump}/generations/{generation}",
            get(generation),
        )
        .route("/api/dumps/{dump}/retained", get(retained))
        .route("/api/dumps/{dump}/dominators", get(dominators))
        .route("/api/dumps/{dump}/objects/{address}", get(object))
        .route("/api/dumps/{dump}/objects/{address}/path", get(object_path))
        .route("/api/trend", get(trend))
        .route("/api/diff", get(diff))
        .route(
            "/api/{*unknown}",
            get(|| async { ApiError::NotFound("no such API".into()) }),
        )
        .with_state(served)
}

/// One loaded dump, as `/api/dumps` lists it.
#[derive(Serialize)]
struct DumpInfo {
    id: usize,
    name: String,
    objects: u64,
    memsize: u64,
}

async fn dumps(State(served): State<Arc<Served>>) -> Json<Vec<DumpInfo>> {
    let list = served
        .dumps
        .iter()
        .enumerate()
        .map(|(id, dump)| DumpInfo {
            id,
            name: dump.name.clone(),
            objects: dump.summary.total.count,
            memsize: dump.summary.total.memsize,
        })
        .collect();
    Json(list)
}

/// The number of the dump a request names, checked.
fn dump_index(served: &Served, number: &str) -> Result<usize, ApiError> {
    number
        .parse::<usize>()
        .ok()
        .filter(|&i| i < served.dumps.len())
        .ok_or_else(|| ApiError::NotFound(format!("no dump number {number}")))
}

fn dump_numbered<'a>(served: &'a Served, number: &str) -> Result<&'a LoadedDump, ApiError> {
    Ok(&served.dumps[dump_index(served, number)?])
}

/// A numeric parameter, or its default when absent.
fn number(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a number, not `{text}`"))),
    }
}

/// The node of the object at an address (as dumps write it).
fn node_at(dump: &LoadedDump, address: &str) -> Result<u32, ApiError> {
    let value = parse_address(address.as_bytes()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "expected an object address such as 0x7f30cc77e440, not `{address}`"
        ))
    })?;
    dump.graph
        .node_at(value)
        .ok_or_else(|| ApiError::NotFound(format!("no object at {value:#x} in the dump")))
}

async fn summary(
    State(served): State<Arc<Served>>,
    Path(dump): Path<String>,
) -> Answer<heapsift_reports::GenerationSummary> {
    Ok(Json(dump_numbered(&served, &dump)?.summary.clone()))
}

async fn generation(
    State(served): State<Arc<Served>>,
    Path((dump, generation)): Path<(String, String)>,
    Query(params): Params,
) -> Answer<heapsift_reports::GenerationReport> {
    let dump = dump_numbered(&served, &dump)?;
    let selector = match generation.as_str() {
        "all" => GenerationSelector::All,
        text => GenerationSelector::Only(text.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "expected a generation number or `all`, not `{text}`"
            ))
        })?),
    };
    let lines = number(&params, "lines", 50)?;
    dump.generations
        .get(selector, lines)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("not a valid Generation: {generation}")))
}

async fn retained(
    State(served): State<Arc<Served>>,
    Path(dump): Path<String>,
    Query(params): Params,
) -> Answer<RetainedReport> {
    off_runtime(move || {
        let dump = dump_numbered(&served, &dump)?;
        let by = match params.get("by").map(String::as_str) {
            None | Some("object") => Grouping::Object,
            Some("class") => Grouping::Class,
            Some("location") => Grouping::Location,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "by must be object, class or location, not `{other}`"
                )));
            }
        };
        let top = number(&params, "top", 20)?;
        let root = match params.get("root") {
            None => None,
            Some(address) => {
                let node = node_at(dump, address)?;
                if !dump.retention.is_reachable(node) {
                    return Err(ApiError::NotFound(format!(
                        "{address} is not reachable from the GC roots: it retains nothing"
                    )));
                }
                Some(node)
            }
        };
        Ok(Json(RetainedReport::new(
            &dump.graph,
            &dump.retention,
            by,
            top,
            root,
        )))
    })
    .await
}

async fn dominators(
    State(served): State<Arc<Served>>,
    Path(dump): Path<String>,
    Query(params): Params,
) -> Answer<DominatorLevel> {
    off_runtime(move || {
        let dump = dump_numbered(&served, &dump)?;
        let parent = params
            .get("of")
            .map(|address| node_at(dump, address))
            .transpose()?;
        let top = number(&params, "top", 40)?;
        Ok(Json(DominatorLevel::new(
            &dump.graph,
            &dump.retention,
            parent,
            top,
        )))
    })
    .await
}

async fn object(
    State(served): State<Arc<Served>>,
    Path((number, address)): Path<(String, String)>,
) -> Answer<ObjectDetails> {
    off_runtime(move || {
        let index = dump_index(&served, &number)?;
        let dump = &served.dumps[index];
        let node = node_at(dump, &address)?;
        let mut details = ObjectDetails::new(&dump.graph, &dump.retention, node, SHOWN);
        // One dump read at a time: each reading uses every core.
        let _one_at_a_time = RECORD_LOOKUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        details.record = (served.records)(index, dump.graph.address(node));
        Ok(Json(details))
    })
    .await
}

async fn object_path(
    State(served): State<Arc<Served>>,
    Path((dump, address)): Path<(String, String)>,
) -> Answer<RootPath> {
    off_runtime(move || {
        let dump = dump_numbered(&served, &dump)?;
        let node = node_at(dump, &address)?;
        RootPath::find(&dump.graph, &dump.retention, node)
            .map(Json)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "{address} is not reachable from the GC roots (garbage not yet collected)"
                ))
            })
    })
    .await
}

async fn trend(
    State(served): State<Arc<Served>>,
    Query(params): Query<HashMap<String, String>>,
) -> Answer<heapsift_reports::TrendReport> {
    off_runtime(move || {
        if served.dumps.len() < 2 {
            return Err(ApiError::NotFound(
                "a trend needs 2 dumps or more; 1 loaded".into(),
            ));
        }
        let grouping = match params.get("by").map(String::as_str) {
            None | Some("location") => TrendGrouping::Location,
            Some("class") => TrendGrouping::Class,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "by must be location or class, not `{other}`"
                )));
            }
        };
        let top = number(&params, "top", 20)?;
        let mut trend = Trend::new(grouping);
        for dump in &served.dumps {
            let counts = match grouping {
                TrendGrouping::Location => dump.trend_by_location.clone(),
                TrendGrouping::Class => dump.trend_by_class.clone(),
            };
            trend.add_dump(dump.name.clone(), counts);
        }
        Ok(Json(trend.report(top)))
    })
    .await
}

async fn diff(State(served): State<Arc<Served>>, Query(params): Params) -> Answer<DiffReport> {
    off_runtime(move || {
        let pick = |name: &str| -> Result<Option<&LoadedDump>, ApiError> {
            params
                .get(name)
                .filter(|value| !value.is_empty())
                .map(|value| dump_numbered(&served, value))
                .transpose()
        };
        let (Some(before), Some(after)) = (pick("before")?, pick("after")?) else {
            return Err(ApiError::BadRequest(
                "a diff needs before and after (dump numbers)".into(),
            ));
        };
        let retained = pick("retained")?;
        Ok(Json(DiffReport::between(
            &before.diff,
            &after.diff,
            retained.map(|dump| &dump.diff),
        )))
    })
    .await
}
