//! Outbound mappings: events sent to partners in their own format.
//!
//! Targets are declared in `*.toml` files of the outbound directory (see the README's
//! *Outbound mappings*). When a change publishes an event, every target of the
//! event's business whose mapping takes it renders its request (body, URL, headers)
//! inside the change's transaction; the request is stored with the delivery, so the
//! dispatcher sends the same bytes on every attempt, with retries, dead letters,
//! replay and per-shipment order as for webhooks.

pub(crate) mod definition;
pub(crate) mod template;
pub(crate) mod writers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use definition::Problem;
use definition::{Definitions, Format, Kind, Mapping, Target};

use crate::rules::live::snapshot;
use crate::rules::path::Scope;
use crate::store::outbox::{BatchPart, Rendered, Routed, Router};

/// The outbound targets this process knows, read again when their files change.
pub struct Outbound {
    loaded: ArcSwap<Loaded>,
    dir: Option<PathBuf>,
    seen: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
}

struct Loaded {
    targets: Vec<Arc<Target>>,
    files: Vec<String>,
}

impl Loaded {
    fn of(defs: Definitions) -> Self {
        Self {
            targets: defs.targets.into_iter().map(Arc::new).collect(),
            files: defs.files,
        }
    }
}

/// A request as stored with its delivery (beside the body bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Request {
    pub mapping: String,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The partner's answer goes through the ingest rules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reply: bool,
    /// For a file target: the file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// For a NATS target: the subject; for an AMQP target: the routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// A header of a request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// An outbound target, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetSummary {
    pub name: String,
    pub business: String,
    /// `http`, `folder`, `sftp` or `email`.
    pub kind: &'static str,
    /// Where requests go: `METHOD URL`, `folder PATH`, `sftp://user@host:port/path`
    /// or `mail to … through host:port`.
    pub destination: String,
    /// The file it is declared in.
    pub file: String,
    pub mappings: Vec<MappingSummary>,
}

/// One mapping of a target, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MappingSummary {
    pub name: String,
    pub events: Vec<&'static str>,
    /// `json`, `csv`, `fixed_width`, `edifact` or `x12`.
    pub format: &'static str,
    /// The partner's answer goes through the ingest rules.
    pub reply: bool,
    /// For a batched mapping: the period each file gathers (`1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// What one mapping makes of an event, for `explain` and `outbound test`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Explained {
    pub target: String,
    pub mapping: String,
    /// True when the mapping takes the event (and, of its target's mappings, it is
    /// the first that does: only that one sends).
    pub fires: bool,
    /// Why it does not fire, or why it cannot render the event.
    pub reason: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
    /// For a file target: the file it would write.
    pub file: Option<String>,
    pub headers: Vec<Header>,
    /// The body it would send.
    pub body: Option<String>,
}

impl Outbound {
    /// Reads the outbound directory (no targets when it does not exist).
    pub fn load(dir: &Path) -> Result<Self, Vec<Problem>> {
        let seen = snapshot(dir);
        let defs = definition::load_dir(dir)?;
        Ok(Self {
            loaded: ArcSwap::from_pointee(Loaded::of(defs)),
            dir: Some(dir.to_path_buf()),
            seen: Mutex::new(seen),
        })
    }

    /// Reads outbound files given as (name, text).
    pub fn from_texts(files: &[(String, String)]) -> Result<Self, Vec<Problem>> {
        let defs = definition::load_texts(files)?;
        Ok(Self {
            loaded: ArcSwap::from_pointee(Loaded::of(defs)),
            dir: None,
            seen: Mutex::new(Vec::new()),
        })
    }

    /// No targets at all.
    pub fn empty() -> Self {
        Self {
            loaded: ArcSwap::from_pointee(Loaded {
                targets: Vec::new(),
                files: Vec::new(),
            }),
            dir: None,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// How many targets are loaded.
    pub fn len(&self) -> usize {
        self.loaded.load().targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The files read.
    pub fn files(&self) -> Vec<String> {
        self.loaded.load().files.clone()
    }

    /// The targets of `business`, as listed.
    pub fn targets_of(&self, business: &str) -> Vec<TargetSummary> {
        self.loaded
            .load()
            .targets
            .iter()
            .filter(|t| t.business == business)
            .map(|t| TargetSummary {
                name: t.name.clone(),
                business: t.business.clone(),
                kind: t.kind.as_str(),
                destination: t.kind.describe(),
                file: t.file.clone(),
                mappings: t
                    .mappings
                    .iter()
                    .map(|m| MappingSummary {
                        name: m.name.clone(),
                        events: m.events.iter().map(|e| e.as_str()).collect(),
                        format: m.format.as_str(),
                        reply: m.reply,
                        batch: m.batch.map(|b| humantime::format_duration(b).to_string()),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Each target on a line: `name (file): kind, business B, METHOD URL, mappings A (events), …`.
    pub fn summaries(&self) -> Vec<String> {
        self.loaded
            .load()
            .targets
            .iter()
            .map(|t| {
                let mappings: Vec<String> = t
                    .mappings
                    .iter()
                    .map(|m| {
                        let events: Vec<&str> = m.events.iter().map(|e| e.as_str()).collect();
                        match m.batch {
                            Some(b) => format!(
                                "{} ({}; a file every {})",
                                m.name,
                                events.join(", "),
                                humantime::format_duration(b)
                            ),
                            None => format!("{} ({})", m.name, events.join(", ")),
                        }
                    })
                    .collect();
                format!(
                    "target '{}' ({}): {}, business {}, {}, mappings {}",
                    t.name,
                    t.file,
                    t.kind.as_str(),
                    t.business,
                    t.kind.describe(),
                    mappings.join("; ")
                )
            })
            .collect()
    }

    /// Credentials named by the targets that this environment cannot read (the
    /// dispatcher reads them at each attempt).
    pub fn credential_warnings(&self) -> Vec<String> {
        use crate::sources::definition::{Auth, Secret, SftpAuth};
        let mut out = Vec::new();
        for t in self.loaded.load().targets.iter() {
            let mut secrets: Vec<&Secret> = Vec::new();
            let mut files: Vec<&std::path::Path> = Vec::new();
            let auth: Option<&Auth> = match &t.kind {
                Kind::Http(http) => match &http.auth {
                    Some(definition::TargetAuth::Credentials(a)) => Some(a),
                    Some(definition::TargetAuth::StandardWebhooks(s)) => {
                        secrets.push(s);
                        None
                    }
                    None => None,
                },
                Kind::Folder(_) => None,
                Kind::Nats(nats) => nats.auth.as_ref(),
                Kind::Amqp(amqp) => amqp.auth.as_ref(),
                Kind::Email(mail) => {
                    if let Some((user, password)) = &mail.login {
                        secrets.extend([user, password]);
                    }
                    None
                }
                Kind::Sftp(sftp) => {
                    match &sftp.auth {
                        SftpAuth::Key { file, passphrase } => {
                            files.push(file);
                            secrets.extend(passphrase);
                        }
                        SftpAuth::Password(p) => secrets.push(p),
                    }
                    None
                }
            };
            match auth {
                None => {}
                Some(Auth::Bearer { token }) => secrets.push(token),
                Some(Auth::Basic { user, password }) => secrets.extend([user, password]),
                Some(Auth::Header { value, .. }) => secrets.push(value),
                Some(Auth::OAuth2 {
                    client_id,
                    client_secret,
                    ..
                }) => secrets.extend([client_id, client_secret]),
            }
            for secret in secrets {
                if let Err(e) = secret.read() {
                    out.push(format!("target '{}': {e}", t.name));
                }
            }
            for file in files {
                if let Err(e) = std::fs::metadata(file) {
                    out.push(format!(
                        "target '{}': the key file {}: {e}",
                        t.name,
                        file.display()
                    ));
                }
            }
        }
        out
    }

    /// The target named `name`.
    pub(crate) fn target(&self, name: &str) -> Option<Arc<Target>> {
        self.loaded
            .load()
            .targets
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }

    /// Every mapping of the event's business, and what each makes of `envelope`.
    pub fn explain(&self, envelope: &Value) -> Vec<Explained> {
        let business = envelope["data"]["business"].as_str().unwrap_or_default();
        let mut out = Vec::new();
        for target in self.loaded.load().targets.iter() {
            if target.business != business {
                continue;
            }
            let mut fired = false;
            for mapping in &target.mappings {
                let mut e = Explained {
                    target: target.name.clone(),
                    mapping: mapping.name.clone(),
                    fires: false,
                    reason: None,
                    method: None,
                    url: None,
                    file: None,
                    headers: Vec::new(),
                    body: None,
                };
                match takes(mapping, envelope) {
                    Err(why) => e.reason = Some(why),
                    Ok(()) if fired => {
                        e.reason = Some("an earlier mapping of the target takes the event".into())
                    }
                    Ok(()) => {
                        fired = true;
                        e.fires = true;
                        match render(target, mapping, envelope) {
                            Ok((request, body)) => {
                                if request.file.is_none() {
                                    e.method = Some(request.method);
                                    e.url = Some(request.url);
                                }
                                e.file = request.file;
                                e.headers = request
                                    .headers
                                    .into_iter()
                                    .map(|(name, value)| Header { name, value })
                                    .collect();
                                e.body = Some(body);
                            }
                            Err(why) => e.reason = Some(why),
                        }
                    }
                }
                out.push(e);
            }
        }
        out
    }

    /// Whether a file of the directory changed since it was last read.
    fn changed(&self) -> bool {
        let Some(dir) = &self.dir else { return false };
        let now = snapshot(dir);
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        *seen != now
    }

    /// Reads the directory again; a broken file keeps the targets in use.
    fn reload_and_log(&self, why: &str) {
        let Some(dir) = &self.dir else { return };
        let now = snapshot(dir);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = now;
        match definition::load_dir(dir) {
            Ok(defs) => {
                let targets = defs.targets.len();
                self.loaded.store(Arc::new(Loaded::of(defs)));
                metrics::counter!("freightgate_outbound_reloads_total", "result" => "ok")
                    .increment(1);
                tracing::info!(targets, why, "outbound targets reloaded");
            }
            Err(problems) => {
                metrics::counter!("freightgate_outbound_reloads_total", "result" => "error")
                    .increment(1);
                tracing::error!(
                    problems = %problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
                    "outbound files have errors; the targets in use are kept"
                );
            }
        }
    }
}

/// Why the mapping does not take the event, if it does not.
fn takes(mapping: &Mapping, envelope: &Value) -> Result<(), String> {
    let event = envelope["type"].as_str().unwrap_or_default();
    if !mapping.events.iter().any(|e| e.as_str() == event) {
        return Err(format!("it does not take {event} events"));
    }
    if let Some(when) = &mapping.when
        && let Some(failure) = when.first_failure(&Scope::root(envelope))
    {
        return Err(format!(
            "`when` does not hold: {} (found {})",
            failure.condition, failure.found
        ));
    }
    Ok(())
}

/// The request and body a mapping renders for an event.
fn render(
    target: &Target,
    mapping: &Mapping,
    envelope: &Value,
) -> Result<(Request, String), String> {
    let content_type = mapping.format.content_type();
    let body = write_body(mapping, documents(mapping, envelope)?)?;
    // A batched mapping's file is named for its period: what one event renders is
    // that file as if the event were the period's only one.
    let names = match mapping.batch {
        Some(period) => {
            let (start, end) = period_of(envelope, period);
            batch_envelope(target, mapping, start, end, 1)
        }
        None => envelope.clone(),
    };
    let scope = Scope::root(envelope);
    let request = match &target.kind {
        Kind::Http(http) => {
            let rendered_headers = mapping.headers.render(scope, "headers")?;
            let mut headers = vec![("content-type".to_string(), content_type.to_string())];
            headers.extend(http.headers.iter().cloned());
            for (name, value) in rendered_headers.as_object().into_iter().flatten() {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("headers.{name}: a header's value must be text")),
                };
                if reqwest::header::HeaderValue::from_str(&text).is_err() {
                    return Err(format!(
                        "headers.{name}: `{text}` cannot be sent in a header"
                    ));
                }
                headers.push((name.to_ascii_lowercase(), text));
            }
            Request {
                mapping: mapping.name.clone(),
                method: http.method.to_string(),
                url: mapping.url.as_ref().unwrap_or(&http.url).render(envelope)?,
                headers,
                reply: mapping.reply,
                file: None,
                subject: None,
            }
        }
        Kind::Nats(nats) => Request {
            subject: Some(nats.subject.render_subject(envelope)?),
            ..Request::of(mapping, content_type)
        },
        Kind::Amqp(amqp) => Request {
            subject: Some(amqp.routing_key.render_routing_key(envelope)?),
            ..Request::of(mapping, content_type)
        },
        Kind::Folder(_) | Kind::Sftp(_) | Kind::Email(_) => file_request(target, mapping, &names)?,
    };
    Ok((request, body))
}

/// A file target's request: the file's name and, for mail, the subject, both
/// rendered from `names` (the event, or a batch).
fn file_request(target: &Target, mapping: &Mapping, names: &Value) -> Result<Request, String> {
    let mut request = Request::of(mapping, mapping.format.content_type());
    if let Kind::Email(mail) = &target.kind {
        request.headers.push((
            "subject".into(),
            mail.subject.render_line(names, "subject")?,
        ));
    }
    request.file = Some(
        mapping
            .file_name
            .as_ref()
            .ok_or("no file_name")?
            .render_file_name(names)?,
    );
    Ok(request)
}

impl Request {
    /// A request of `mapping` with its body's content type and nothing else yet.
    fn of(mapping: &Mapping, content_type: &str) -> Self {
        Request {
            mapping: mapping.name.clone(),
            method: String::new(),
            url: String::new(),
            headers: vec![("content-type".to_string(), content_type.to_string())],
            reply: false,
            file: None,
            subject: None,
        }
    }
}

/// What a mapping renders for an event, as documents: for CSV a row per node of
/// `rows` (or one row), for the other formats the body (a list's elements, when the
/// body is a list).
fn documents(mapping: &Mapping, envelope: &Value) -> Result<Vec<Value>, String> {
    let root = Scope::root(envelope);
    if let Format::Text(template) = &mapping.format {
        return Ok(vec![Value::String(template.render_raw(envelope)?)]);
    }
    let Format::Csv { rows, .. } = &mapping.format else {
        return Ok(match mapping.body.render(root, "body")? {
            Value::Array(items) if mapping.batch.is_some() => items,
            one => vec![one],
        });
    };
    let nodes = match rows {
        Some(path) => path.select_located(&root),
        None => vec![crate::rules::path::Located {
            value: envelope,
            path: "$".into(),
        }],
    };
    nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let scope = Scope {
                root: envelope,
                current: node.value,
                current_path: &node.path,
            };
            mapping.body.render(scope, &format!("rows[{i}]"))
        })
        .collect()
}

/// The body of a file (or request) holding `documents`: JSON (the one document, or a
/// list of them), CSV (a line per row, a column per field of the mapping's body, in
/// its order; a field without a value is an empty cell), or by the format's writer.
fn write_body(mapping: &Mapping, mut documents: Vec<Value>) -> Result<String, String> {
    let body = if documents.len() == 1 && mapping.batch.is_none() {
        documents.pop().unwrap_or_default()
    } else {
        Value::Array(documents)
    };
    match &mapping.format {
        Format::Json => Ok(body.to_string()),
        Format::Csv {
            header, delimiter, ..
        } => {
            let columns = mapping.body.names();
            let mut writer = csv::WriterBuilder::new()
                .delimiter(*delimiter)
                .from_writer(Vec::new());
            let fail = |e: csv::Error| format!("writing CSV: {e}");
            if *header {
                writer.write_record(&columns).map_err(fail)?;
            }
            let rows = match body {
                Value::Array(rows) => rows,
                one => vec![one],
            };
            for row in rows {
                let cells = columns.iter().map(|c| match &row[c.as_str()] {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                writer.write_record(cells).map_err(fail)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|e| format!("writing CSV: {e}"))?;
            String::from_utf8(bytes).map_err(|e| format!("writing CSV: {e}"))
        }
        Format::FixedWidth(layout) => writers::fixed_width(layout, &body),
        Format::Edifact => writers::edifact(&body),
        Format::X12 => writers::x12(&body),
        // Each event's text, one after the other.
        Format::Text(_) => Ok(match body {
            Value::Array(texts) => texts.iter().filter_map(Value::as_str).collect(),
            Value::String(text) => text,
            _ => String::new(),
        }),
    }
}

/// The period of `length` (aligned to the Unix epoch) an event's timestamp falls in.
fn period_of(envelope: &Value, length: Duration) -> (DateTime<Utc>, DateTime<Utc>) {
    let at = envelope["timestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let seconds = i64::try_from(length.as_secs()).unwrap_or(i64::MAX).max(1);
    let start = at.timestamp().div_euclid(seconds) * seconds;
    let start = DateTime::from_timestamp(start, 0).unwrap_or(at);
    (start, start + chrono::Duration::seconds(seconds))
}

/// What a batch file's name and mail subject are rendered from: `type`
/// `outbound.batch`, `timestamp` (the period's end) and `data` with the business,
/// target, mapping, the period (`period_start`, `period_end`, and `period`, its
/// start as `20261206T0100Z`) and the number of events.
pub(crate) fn batch_envelope(
    target: &Target,
    mapping: &Mapping,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    events: usize,
) -> Value {
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "type": "outbound.batch",
        "timestamp": stamp(end),
        "data": {
            "business": target.business,
            "target": target.name,
            "mapping": mapping.name,
            "period_start": stamp(start),
            "period_end": stamp(end),
            "period": start.format("%Y%m%dT%H%MZ").to_string(),
            "events": events,
        }
    })
}

impl Outbound {
    /// The target's request for an event, if one of its mappings takes it (the
    /// first that does). The error says which mapping could not render it, and why.
    pub(crate) fn render_for(
        target: &Target,
        envelope: &Value,
    ) -> Option<Result<Rendered, String>> {
        let mapping = target
            .mappings
            .iter()
            .find(|m| takes(m, envelope).is_ok())?;
        Some(Self::render_with(target, mapping, envelope))
    }

    /// The request `mapping` (which takes the event) renders for it.
    fn render_with(
        target: &Target,
        mapping: &Mapping,
        envelope: &Value,
    ) -> Result<Rendered, String> {
        render(target, mapping, envelope)
            .map(|(request, body)| Rendered {
                body,
                request: serde_json::to_string(&request).unwrap_or_default(),
            })
            .map_err(|why| render_failure(target, mapping, why))
    }

    /// A batch's file from the documents of its parts (each a JSON list, in the
    /// order the events came), named for its period.
    pub(crate) fn render_batch(
        target: &Target,
        mapping: &Mapping,
        parts: &[&str],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(Value, Rendered), String> {
        let names = batch_envelope(target, mapping, start, end, parts.len());
        let mut documents = Vec::new();
        for part in parts {
            match serde_json::from_str::<Value>(part) {
                Ok(Value::Array(items)) => documents.extend(items),
                _ => {
                    return Err(format!(
                        "outbound target `{}`, mapping `{}`: a stored part of the batch is not a JSON list",
                        target.name, mapping.name
                    ));
                }
            }
        }
        let rendered = (|| {
            let body = write_body(mapping, documents)?;
            let request = file_request(target, mapping, &names)?;
            Ok(Rendered {
                body,
                request: serde_json::to_string(&request).unwrap_or_default(),
            })
        })()
        .map_err(|why: String| render_failure(target, mapping, why))?;
        Ok((names, rendered))
    }
}

/// Why a mapping could not render an event (or a batch), counted.
fn render_failure(target: &Target, mapping: &Mapping, why: String) -> String {
    metrics::counter!("freightgate_outbound_render_failures_total", "target" => target.name.clone())
        .increment(1);
    format!(
        "outbound target `{}`, mapping `{}`: {why}",
        target.name, mapping.name
    )
}

impl Router for Outbound {
    fn route(&self, envelope: &Value) -> Vec<Routed> {
        let loaded = self.loaded.load();
        if loaded.targets.is_empty() {
            return Vec::new();
        }
        let business = envelope["data"]["business"].as_str().unwrap_or_default();
        loaded
            .targets
            .iter()
            .filter(|t| t.business == business)
            .filter_map(|t| {
                let mapping = t.mappings.iter().find(|m| takes(m, envelope).is_ok())?;
                if let Some(period) = mapping.batch {
                    // The event's documents wait for the end of its period; one that
                    // cannot be rendered is dead-lettered at once, as any.
                    // Written alone first: what the writer refuses (a value wider
                    // than its columns, say) is refused now, for this event, not
                    // later for the whole batch.
                    let checked = documents(mapping, envelope).and_then(|documents| {
                        write_body(mapping, documents.clone()).map(|_| documents)
                    });
                    match checked {
                        Ok(documents) => {
                            let (period_start, due_at) = period_of(envelope, period);
                            return Some(Routed {
                                target: t.name.clone(),
                                rendered: Err(String::new()),
                                part: Some(BatchPart {
                                    mapping: mapping.name.clone(),
                                    period_start,
                                    due_at,
                                    documents: Value::Array(documents).to_string(),
                                }),
                            });
                        }
                        Err(why) => {
                            return Some(Routed {
                                target: t.name.clone(),
                                rendered: Err(render_failure(t, mapping, why)),
                                part: None,
                            });
                        }
                    }
                }
                Some(Routed {
                    target: t.name.clone(),
                    rendered: Self::render_with(t, mapping, envelope),
                    part: None,
                })
            })
            .collect()
    }
}

/// Reads the outbound directory again when a file changes (checked every
/// `interval`) or on SIGHUP, until `shutdown`.
pub async fn watch(outbound: Arc<Outbound>, interval: Duration, shutdown: CancellationToken) {
    crate::rules::live::watch_files(
        interval,
        shutdown,
        || outbound.changed(),
        |why| outbound.reload_and_log(why.unwrap_or("outbound files changed")),
    )
    .await
}

/// The stored request of a delivery, read back.
pub(crate) fn stored_request(text: &str) -> Option<Request> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(mapping: &str) -> Target {
        let text = format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"folder\"\npath = \"/tmp/x\"\nfile_name = \"f-{{$.data.period}}.txt\"\n[[target.mapping]]\nname = \"m\"\nevents = [\"order.created\"]\n{mapping}"
        );
        let definitions = definition::load_texts(&[("t.toml".into(), text)])
            .unwrap_or_else(|p| panic!("{}", p[0]));
        definitions.targets.into_iter().next().unwrap()
    }

    fn event(number: &str) -> Value {
        json!({"type": "order.created", "timestamp": "2026-12-06T10:15:00.000Z",
               "data": {"business": "b", "order_number": number, "status": "OPEN"}})
    }

    #[test]
    fn a_text_template_fills_its_placeholders_and_keeps_doubled_braces_literal() {
        let t = target(
            "format = \"text\"\nfile_name = \"f.txt\"\ntemplate = \"ORDER {$.data.order_number} {{status: {$.data.status}}}\\n\"",
        );
        let rendered = Outbound::render_for(&t, &event("A-1")).unwrap().unwrap();
        assert_eq!(rendered.body, "ORDER A-1 {status: OPEN}\n");
        let request = stored_request(&rendered.request).unwrap();
        assert_eq!(request.headers[0].1, "text/plain; charset=utf-8");
        let missing = json!({"type": "order.created", "timestamp": "2026-12-06T10:15:00.000Z",
                             "data": {"business": "b", "order_number": "A-2"}});
        let error = Outbound::render_for(&t, &missing).unwrap().unwrap_err();
        assert!(
            error.ends_with("template: `$.data.status` has no value"),
            "{error}"
        );
    }

    #[test]
    fn a_batch_writes_its_parts_in_order_as_one_file_named_for_its_period() {
        let csv = target(
            "format = \"csv\"\nbatch = \"1h\"\n[target.mapping.body]\norder = \"$.data.order_number\"\nstatus = \"$.data.status\"",
        );
        let mapping = &csv.mappings[0];
        let parts: Vec<String> = ["A-1", "A-2", "A-3"]
            .iter()
            .map(|n| Value::Array(documents(mapping, &event(n)).unwrap()).to_string())
            .collect();
        let texts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let (start, end) = period_of(&event("A-1"), Duration::from_secs(3600));
        assert_eq!(start.to_rfc3339(), "2026-12-06T10:00:00+00:00");
        let (names, rendered) = Outbound::render_batch(&csv, mapping, &texts, start, end).unwrap();
        assert_eq!(names["data"]["events"], 3);
        assert_eq!(
            rendered.body,
            "order,status\nA-1,OPEN\nA-2,OPEN\nA-3,OPEN\n"
        );
        let request = stored_request(&rendered.request).unwrap();
        assert_eq!(request.file.as_deref(), Some("f-20261206T1000Z.txt"));
        let json = target("batch = \"1h\"\nbody = { order = \"$.data.order_number\" }");
        let one = Value::Array(documents(&json.mappings[0], &event("B-1")).unwrap()).to_string();
        let (_, rendered) =
            Outbound::render_batch(&json, &json.mappings[0], &[&one, &one], start, end).unwrap();
        assert_eq!(rendered.body, r#"[{"order":"B-1"},{"order":"B-1"}]"#);
    }
}
