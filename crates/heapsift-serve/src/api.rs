//! `/api/`: the reports of the loaded dumps as JSON, in the CLI's shapes.
//! Each route collects a query's fields from its path and parameters
//! (named as the CLI's options) and runs the query the CLI runs, so the
//! defaults, checks and messages are the CLI's.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use heapsift_graph::{DominatorLevel, ObjectDetails, RetainedReport, RootPath};
use heapsift_query::{
    DominatorQuery, GenerationArg, GenerationQuery, PathQuery, QueryError, RetainedQuery,
    ShowQuery, SuspectsQuery, TrendBy, TrendQuery, ValueEnum, parse_address_arg, parse_choice,
    parse_count, parse_positive_count,
};
use heapsift_reports::{DiffReport, GenerationReport, GenerationSummary, InfoReport, TrendReport};
use heapsift_suspects::SuspectsReport;
use serde::Serialize;

use crate::reread::{self, record_line};
use crate::{LoadedDump, MOST_ROWS, Served, WholeHeap};

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

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::Invalid(message) => ApiError::BadRequest(message),
            QueryError::NotFound(message) => ApiError::NotFound(message),
        }
    }
}

type Answer<T> = Result<Json<T>, ApiError>;

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
        .route("/api/dumps/{dump}/info", get(info))
        .route(
            "/api/dumps/{dump}/generations/{generation}",
            get(generation),
        )
        .route("/api/dumps/{dump}/retained", get(retained))
        .route("/api/dumps/{dump}/dominators", get(dominators))
        .route("/api/dumps/{dump}/objects/{address}", get(object))
        .route("/api/dumps/{dump}/objects/{address}/path", get(object_path))
        .route("/api/suspects", get(suspects))
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

/// The dump a request names, with the reports on its whole heap.
fn whole_heap_numbered<'a>(
    served: &'a Served,
    number: &str,
) -> Result<(&'a LoadedDump, &'a WholeHeap), ApiError> {
    let index = dump_index(served, number)?;
    Ok((&served.dumps[index], &served.whole_heaps[index]))
}

/// A count parameter (`top`, `lines`), or `default` when absent; clamped
/// to [`MOST_ROWS`].
fn number(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => Ok(parse_count(name, text)?.min(MOST_ROWS)),
    }
}

/// An address parameter, if given.
fn address(params: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(name)
        .map(|text| parse_address_arg(text).map_err(ApiError::BadRequest))
        .transpose()
}

/// A choice parameter (`by`), or the default when absent.
fn choice<T: ValueEnum + Default>(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<T, ApiError> {
    match params.get(name) {
        None => Ok(T::default()),
        Some(text) => Ok(parse_choice(name, text)?),
    }
}

async fn summary(
    State(served): State<Arc<Served>>,
    Path(dump): Path<String>,
) -> Answer<GenerationSummary> {
    Ok(Json(dump_numbered(&served, &dump)?.summary.clone()))
}

async fn info(State(served): State<Arc<Served>>, Path(dump): Path<String>) -> Answer<InfoReport> {
    Ok(Json(dump_numbered(&served, &dump)?.info.clone()))
}

async fn generation(
    State(served): State<Arc<Served>>,
    Path((dump, generation)): Path<(String, String)>,
    Query(params): Params,
) -> Answer<GenerationReport> {
    let dump = dump_numbered(&served, &dump)?;
    let query = GenerationQuery {
        generation: generation
            .parse::<GenerationArg>()
            .map_err(ApiError::BadRequest)?,
        lines: number(&params, "lines", GenerationQuery::DEFAULT_LINES)?,
    };
    Ok(Json(query.from_reports(&dump.name, &dump.generations)?))
}

async fn retained(
    State(served): State<Arc<Served>>,
    Path(dump): Path<String>,
    Query(params): Params,
) -> Answer<RetainedReport> {
    off_runtime(move || {
        let (dump, whole_heap) = whole_heap_numbered(&served, &dump)?;
        let query = RetainedQuery {
            by: choice(&params, "by")?,
            top: number(&params, "top", RetainedQuery::DEFAULT_TOP)?,
            root: address(&params, "root")?,
        };
        if query.root.is_none() {
            let whole = whole_heap.retained(query.by.into());
            return Ok(Json(whole.first(query.top)));
        }
        Ok(Json(query.run(&dump.heap)?))
    })
    .await
}

async fn dominators(
    State(served): State<Arc<Served>>,
    Path(dump): Path<String>,
    Query(params): Params,
) -> Answer<DominatorLevel> {
    off_runtime(move || {
        let (dump, whole_heap) = whole_heap_numbered(&served, &dump)?;
        let query = DominatorQuery {
            of: address(&params, "of")?,
            top: number(&params, "top", DominatorQuery::DEFAULT_TOP)?,
        };
        if query.of.is_none() {
            return Ok(Json(whole_heap.dominators.first(query.top)));
        }
        Ok(Json(query.run(&dump.heap)?))
    })
    .await
}

async fn object(
    State(served): State<Arc<Served>>,
    Path((number, address)): Path<(String, String)>,
) -> Answer<ObjectDetails> {
    off_runtime(move || {
        let dump = dump_numbered(&served, &number)?;
        let query = ShowQuery {
            address: parse_address_arg(&address).map_err(ApiError::BadRequest)?,
        };
        let node = dump.heap.object_at(query.address)?;
        let record = record_line(dump, node, query.address);
        Ok(Json(query.run(&dump.heap, record)?))
    })
    .await
}

async fn object_path(
    State(served): State<Arc<Served>>,
    Path((dump, address)): Path<(String, String)>,
) -> Answer<RootPath> {
    off_runtime(move || {
        let dump = dump_numbered(&served, &dump)?;
        let address = parse_address_arg(&address).map_err(ApiError::BadRequest)?;
        Ok(Json(PathQuery::root_path(&dump.heap, address)?))
    })
    .await
}

async fn suspects(
    State(served): State<Arc<Served>>,
    Query(params): Params,
) -> Answer<SuspectsReport> {
    off_runtime(move || {
        let top = match params.get("top") {
            None => SuspectsQuery::DEFAULT_TOP,
            Some(text) => parse_positive_count("top", text)?,
        };
        let mut report = served.suspects.clone();
        report.suspects.truncate(top);
        Ok(Json(report))
    })
    .await
}

async fn trend(State(served): State<Arc<Served>>, Query(params): Params) -> Answer<TrendReport> {
    off_runtime(move || {
        let query = TrendQuery {
            by: choice(&params, "by")?,
            top: number(&params, "top", TrendQuery::DEFAULT_TOP)?,
        };
        query.check_series(served.dumps.len())?;
        let mut series = query.series();
        for dump in &served.dumps {
            let counts = match query.by {
                TrendBy::Location => &dump.trend_by_location,
                TrendBy::Class => &dump.trend_by_class,
            };
            let rss = dump.info.process.as_ref().and_then(|p| p.rss_bytes);
            series.add_dump(dump.name.clone(), counts.clone(), rss);
        }
        Ok(Json(query.report(series)))
    })
    .await
}

async fn diff(State(served): State<Arc<Served>>, Query(params): Params) -> Answer<DiffReport> {
    off_runtime(move || {
        let pick = |name: &str| -> Result<Option<usize>, ApiError> {
            params
                .get(name)
                .filter(|value| !value.is_empty())
                .map(|value| dump_index(&served, value))
                .transpose()
        };
        let (Some(before), Some(after)) = (pick("before")?, pick("after")?) else {
            return Err(ApiError::BadRequest(
                "a diff needs before and after (dump numbers)".into(),
            ));
        };
        let retained = pick("retained")?;
        Ok(Json(reread::diff(&served, (before, after, retained))?))
    })
    .await
}
