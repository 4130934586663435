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
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use definition::Problem;
use definition::{Definitions, Format, Kind, Mapping, Target};

use crate::rules::live::snapshot;
use crate::rules::path::Scope;
use crate::store::outbox::{Rendered, Routed, Router};

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
                        format!("{} ({})", m.name, events.join(", "))
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
    let scope = Scope::root(envelope);
    let content_type = mapping.format.content_type();
    let body = match &mapping.format {
        Format::Json => mapping.body.render(scope, "body")?.to_string(),
        Format::Csv {
            rows,
            header,
            delimiter,
        } => csv_body(mapping, rows.as_ref(), *header, *delimiter, envelope)?,
        Format::FixedWidth(layout) => {
            writers::fixed_width(layout, &mapping.body.render(scope, "body")?)?
        }
        Format::Edifact => writers::edifact(&mapping.body.render(scope, "body")?)?,
        Format::X12 => writers::x12(&mapping.body.render(scope, "body")?)?,
    };
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
            mapping: mapping.name.clone(),
            method: String::new(),
            url: String::new(),
            headers: vec![("content-type".to_string(), content_type.to_string())],
            reply: false,
            file: None,
            subject: Some(nats.subject.render_subject(envelope)?),
        },
        Kind::Amqp(amqp) => Request {
            mapping: mapping.name.clone(),
            method: String::new(),
            url: String::new(),
            headers: vec![("content-type".to_string(), content_type.to_string())],
            reply: false,
            file: None,
            subject: Some(amqp.routing_key.render_routing_key(envelope)?),
        },
        Kind::Folder(_) | Kind::Sftp(_) | Kind::Email(_) => {
            let name = mapping
                .file_name
                .as_ref()
                .ok_or("no file_name")?
                .render_file_name(envelope)?;
            let mut headers = vec![("content-type".to_string(), content_type.to_string())];
            if let Kind::Email(mail) = &target.kind {
                headers.push((
                    "subject".into(),
                    mail.subject.render_line(envelope, "subject")?,
                ));
            }
            Request {
                mapping: mapping.name.clone(),
                method: String::new(),
                url: String::new(),
                headers,
                reply: false,
                file: Some(name),
                subject: None,
            }
        }
    };
    Ok((request, body))
}

/// A CSV body: a line per node of `rows` (or one line), a column per field of the
/// mapping's body, in its order; a field without a value is an empty cell.
fn csv_body(
    mapping: &Mapping,
    rows: Option<&crate::rules::path::JsonPathExpr>,
    header: bool,
    delimiter: u8,
    envelope: &Value,
) -> Result<String, String> {
    let root = Scope::root(envelope);
    let columns = mapping.body.names();
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| format!("writing CSV: {e}");
    if header {
        writer.write_record(&columns).map_err(fail)?;
    }
    let nodes = match rows {
        Some(path) => path.select_located(&root),
        None => vec![crate::rules::path::Located {
            value: envelope,
            path: "$".into(),
        }],
    };
    for (i, node) in nodes.iter().enumerate() {
        let scope = Scope {
            root: envelope,
            current: node.value,
            current_path: &node.path,
        };
        let row = mapping.body.render(scope, &format!("rows[{i}]"))?;
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
        Some(
            render(target, mapping, envelope)
                .map(|(request, body)| Rendered {
                    body,
                    request: serde_json::to_string(&request).unwrap_or_default(),
                })
                .map_err(|why| {
                    metrics::counter!("freightgate_outbound_render_failures_total", "target" => target.name.clone())
                        .increment(1);
                    format!(
                        "outbound target `{}`, mapping `{}`: {why}",
                        target.name, mapping.name
                    )
                }),
        )
    }
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
                Self::render_for(t, envelope).map(|rendered| Routed {
                    target: t.name.clone(),
                    rendered,
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
