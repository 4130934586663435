//! Reading and checking outbound files: `[[target]]` entries, each with its
//! `[[target.mapping]]`s, and the `[lookup.NAME]` tables they share.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::template::{self, Lookups, Template};
use crate::domain::EventType;
use crate::rules::condition::{self, Condition, Problems};
use crate::rules::path::JsonPathExpr;
use crate::rules::raw::RawCondition;
pub use crate::sources::definition::Problem;
use crate::sources::definition::{After, Auth, Complete, Files, RawAuth, Secret, Sftp};

/// One outbound target, checked.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub name: String,
    /// The business whose events it takes (its slug).
    pub business: String,
    pub file: String,
    pub kind: Kind,
    pub mappings: Vec<Mapping>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Http(Box<Http>),
    /// Files written into a directory of this machine (or a mounted share).
    Folder(String),
    /// Files uploaded to a partner's SFTP server.
    Sftp(Box<Sftp>),
    /// Files sent by mail, as attachments.
    Email(Box<Email>),
    /// Messages published to NATS JetStream.
    Nats(Box<Nats>),
    /// Messages published to an AMQP 0-9-1 broker (RabbitMQ) with publisher confirms.
    Amqp(Box<Amqp>),
}

/// Where an AMQP target publishes.
#[derive(Debug, Clone)]
pub(crate) struct Amqp {
    /// `amqp://host:port/vhost` (or `amqps://…`), without a password: that is `auth`'s.
    pub url: String,
    /// The exchange; `""` is the default exchange, where the routing key names a queue.
    pub exchange: String,
    /// The routing key, with `{JSONPATH}` placeholders.
    pub routing_key: TextTemplate,
    /// A user and password (`basic`); without it, the URL's user (or `guest`).
    pub auth: Option<Auth>,
    /// How long a publish waits for the broker's confirmation.
    pub timeout: std::time::Duration,
}

/// Where a NATS target publishes.
#[derive(Debug, Clone)]
pub(crate) struct Nats {
    /// `nats://host:port` (or `tls://…`), several separated by commas.
    pub url: String,
    /// The subject, with `{JSONPATH}` placeholders.
    pub subject: TextTemplate,
    /// A token (`bearer`) or a user and password (`basic`).
    pub auth: Option<Auth>,
    /// How long a publish waits for the stream's acknowledgement.
    pub timeout: std::time::Duration,
}

/// How a mail target's mails go out.
#[derive(Debug, Clone)]
pub(crate) struct Email {
    pub host: String,
    pub port: u16,
    pub tls: MailTls,
    /// User and password, when the server wants a login.
    pub login: Option<(Secret, Secret)>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: TextTemplate,
    pub timeout: std::time::Duration,
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MailTls {
    /// STARTTLS, required (port 587 by default).
    StartTls,
    /// TLS from the first byte (port 465 by default).
    Tls,
    /// None: a relay on this machine or a test sink only (port 25 by default).
    None,
}

impl Kind {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Kind::Http(_) => "http",
            Kind::Folder(_) => "folder",
            Kind::Sftp(_) => "sftp",
            Kind::Email(_) => "email",
            Kind::Nats(_) => "nats",
            Kind::Amqp(_) => "amqp",
        }
    }

    /// Where requests go, as listed.
    pub(crate) fn describe(&self) -> String {
        match self {
            Kind::Http(http) => format!("{} {}", http.method, http.url.text),
            Kind::Folder(path) => format!("folder {path}"),
            Kind::Sftp(sftp) => format!(
                "sftp://{}@{}:{}{}",
                sftp.user, sftp.host, sftp.port, sftp.files.path
            ),
            Kind::Email(mail) => format!(
                "mail to {} through {}:{}",
                mail.to.join(", "),
                mail.host,
                mail.port
            ),
            Kind::Nats(nats) => format!("nats {} subject {}", nats.url, nats.subject.text),
            Kind::Amqp(amqp) => format!(
                "amqp {} exchange `{}` routing key {}",
                amqp.url, amqp.exchange, amqp.routing_key.text
            ),
        }
    }

    fn takes_files(&self) -> bool {
        matches!(self, Kind::Folder(_) | Kind::Sftp(_) | Kind::Email(_))
    }
}

/// How a mapping writes its body.
#[derive(Debug, Clone)]
pub(crate) enum Format {
    Json,
    /// One line per node of `rows` (one line without), the body's fields as columns.
    Csv {
        rows: Option<JsonPathExpr>,
        header: bool,
        delimiter: u8,
    },
    /// Fixed-width text by a layout declared as a reader's is (see `writers`).
    FixedWidth(Arc<crate::rules::formats::fixed::Layout>),
    /// A UN/EDIFACT interchange from documents in the EDIFACT reader's shape.
    Edifact,
    /// An ANSI X12 interchange from documents in the X12 reader's shape.
    X12,
    /// Text from a template with `{JSONPATH}` placeholders (values as they are).
    Text(TextTemplate),
}

impl Format {
    /// As written in a mapping's `format`.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv { .. } => "csv",
            Format::FixedWidth(_) => "fixed_width",
            Format::Edifact => "edifact",
            Format::X12 => "x12",
            Format::Text(_) => "text",
        }
    }

    /// The body's media type.
    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv { .. } => "text/csv; charset=utf-8",
            Format::FixedWidth(_) => "text/plain; charset=utf-8",
            Format::Edifact => "application/edifact",
            Format::X12 => "application/edi-x12",
            Format::Text(_) => "text/plain; charset=utf-8",
        }
    }
}

/// Where and how an HTTP target's requests go.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub url: UrlTemplate,
    pub method: reqwest::Method,
    pub auth: Option<TargetAuth>,
    /// Headers every request carries.
    pub headers: Vec<(String, String)>,
    /// The statuses that count as delivered (none: any 2xx).
    pub success: Option<Vec<u16>>,
}

/// How a target's requests are authorised, read at each attempt.
#[derive(Debug, Clone)]
pub(crate) enum TargetAuth {
    /// Bearer, basic, an API-key header, or OAuth 2.0 client credentials.
    Credentials(Auth),
    /// Standard Webhooks signature headers with this `whsec_…` secret.
    StandardWebhooks(Secret),
}

/// One mapping: which events it takes and what it sends for them.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub name: String,
    pub events: Vec<EventType>,
    pub when: Option<Condition>,
    pub body: Template,
    /// Headers rendered from the event (each value a string or number).
    pub headers: Template,
    /// This mapping's own URL, instead of the target's.
    pub url: Option<UrlTemplate>,
    /// The partner's answer goes through the ingest rules (see `outbound`).
    pub reply: bool,
    pub format: Format,
    /// For a file target: the file's name.
    pub file_name: Option<TextTemplate>,
    /// One file per period of this length (aligned to the Unix epoch, so `1h`
    /// periods start on the hour) instead of one per event.
    pub batch: Option<std::time::Duration>,
}

/// Text with `{JSONPATH}` placeholders, filled from the event.
#[derive(Debug, Clone)]
pub(crate) struct TextTemplate {
    pub text: String,
    parts: Vec<Part>,
}

/// A URL with placeholders, each value percent-encoded.
pub(crate) type UrlTemplate = TextTemplate;

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Path(JsonPathExpr),
}

impl TextTemplate {
    fn parse_text(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if rest[open + 1..].starts_with('{') {
                // `{{` is a literal `{` (and `}}` a `}`).
                parts.push(Part::Text(rest[..=open].replace("}}", "}")));
                rest = &rest[open + 2..];
                continue;
            }
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or("a `{` without its `}`")?;
            parts.push(Part::Text(rest[..open].replace("}}", "}")));
            let path = JsonPathExpr::parse(&rest[open + 1..close])
                .map_err(|e| format!("the placeholder `{}`: {e}", &rest[open..=close]))?;
            parts.push(Part::Path(path));
            rest = &rest[close + 1..];
        }
        parts.push(Part::Text(rest.replace("}}", "}")));
        Ok(Self {
            text: text.to_string(),
            parts,
        })
    }

    /// A URL template: an http or https URL once its placeholders are filled.
    fn parse(text: &str) -> Result<Self, String> {
        let template = Self::parse_text(text)?;
        let probe: String = template
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Path(_) => "x",
            })
            .collect();
        match reqwest::Url::parse(&probe) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(template),
            Ok(_) => Err("an http or https URL".into()),
            Err(e) => Err(format!("not a URL: {e}")),
        }
    }

    /// A file-name template: no directory in its text.
    fn parse_file_name(text: &str) -> Result<Self, String> {
        let template = Self::parse_text(text)?;
        let literal_slash = template
            .parts
            .iter()
            .any(|p| matches!(p, Part::Text(t) if t.contains('/') || t.contains('\\')));
        if text.trim().is_empty() || literal_slash {
            return Err(
                "a file name without a directory, such as `{$.data.shipment_number}.csv`".into(),
            );
        }
        Ok(template)
    }

    /// The text for an event, each value passed through `escape`; a placeholder
    /// without a value is an error naming `what`.
    fn fill(
        &self,
        event: &Value,
        what: &str,
        escape: fn(&mut String, &str),
    ) -> Result<String, String> {
        let scope = crate::rules::path::Scope::root(event);
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Path(p) => {
                    let value = p
                        .first(&scope)
                        .filter(|v| !v.is_null())
                        .ok_or_else(|| format!("{what}: `{}` has no value", p.text()))?;
                    let text = match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    escape(&mut out, &text);
                }
            }
        }
        Ok(out)
    }

    /// The text for an event, values as they are (a text body).
    pub(crate) fn render_raw(&self, event: &Value) -> Result<String, String> {
        self.fill(event, "template", |out, text| out.push_str(text))
    }

    /// The URL for an event.
    pub(crate) fn render(&self, event: &Value) -> Result<String, String> {
        self.fill(event, "url", encode_into)
    }

    /// The text for an event, values as they are but for line breaks (a mail's
    /// subject).
    pub(crate) fn render_line(&self, event: &Value, what: &str) -> Result<String, String> {
        self.fill(event, what, |out, text| {
            out.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }))
        })
    }

    /// A NATS subject for an event: characters of a value other than letters, digits,
    /// `-` and `_` become `_` (a value cannot add tokens or wildcards).
    pub(crate) fn render_subject(&self, event: &Value) -> Result<String, String> {
        self.render_token(event, "subject")
    }

    /// An AMQP routing key for an event, values escaped as in a NATS subject (a
    /// value cannot add words to a topic exchange's key); at most 255 bytes.
    pub(crate) fn render_routing_key(&self, event: &Value) -> Result<String, String> {
        let key = self.render_token(event, "routing_key")?;
        if key.len() > 255 {
            return Err(format!(
                "routing_key: {} bytes, more than the 255 AMQP allows",
                key.len()
            ));
        }
        Ok(key)
    }

    fn render_token(&self, event: &Value, what: &str) -> Result<String, String> {
        self.fill(event, what, |out, text| {
            out.extend(text.chars().map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                    c
                } else {
                    '_'
                }
            }))
        })
    }

    /// The file name for an event: characters other than letters, digits, `.`, `-`
    /// and `_` in a value become `_`.
    pub(crate) fn render_file_name(&self, event: &Value) -> Result<String, String> {
        let name = self.fill(event, "file_name", |out, text| {
            out.extend(text.chars().map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            }))
        })?;
        if name.starts_with('.') {
            return Err(format!("file_name: `{name}` would be a hidden file"));
        }
        Ok(name)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_into(out: &mut String, text: &str) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    lookup: BTreeMap<String, toml::Table>,
    #[serde(default)]
    target: Vec<toml::Spanned<RawTarget>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: String,
    business: String,
    kind: String,
    url: Option<String>,
    method: Option<String>,
    auth: Option<toml::Table>,
    headers: Option<BTreeMap<String, String>>,
    success: Option<Vec<u16>>,
    // folder and sftp
    path: Option<String>,
    file_name: Option<String>,
    // sftp and email
    host: Option<String>,
    port: Option<u16>,
    timeout: Option<String>,
    // sftp
    user: Option<String>,
    host_key: Option<String>,
    // email
    tls: Option<String>,
    from: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    subject: Option<String>,
    // amqp
    exchange: Option<String>,
    routing_key: Option<String>,
    #[serde(default)]
    mapping: Vec<RawMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    name: String,
    events: Vec<String>,
    when: Option<RawCondition>,
    #[serde(default)]
    format: Option<String>,
    body: Option<toml::Table>,
    headers: Option<toml::Table>,
    url: Option<String>,
    #[serde(default)]
    reply: bool,
    file_name: Option<String>,
    rows: Option<String>,
    header: Option<bool>,
    delimiter: Option<String>,
    fixed_width: Option<crate::rules::raw::RawFixedWidth>,
    batch: Option<String>,
    template: Option<String>,
}

/// Every target of a directory's files, and the files read.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    pub targets: Vec<Target>,
    pub files: Vec<String>,
}

/// Reads every `*.toml` file directly in `dir` (none when it does not exist).
pub(crate) fn load_dir(dir: &Path) -> Result<Definitions, Vec<Problem>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        let problem = |file: String, message: String| Problem {
            file,
            line: None,
            entry: None,
            key: None,
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| {
            vec![problem(
                dir.display().to_string(),
                format!("cannot read the directory: {e}"),
            )]
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| vec![problem(name.clone(), format!("cannot read: {e}"))])?;
            files.push((name, text));
        }
    }
    load_texts(&files)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads outbound files given as (name, text).
pub(crate) fn load_texts(files: &[(String, String)]) -> Result<Definitions, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Definitions::default();
    let mut names: HashMap<String, String> = HashMap::new();
    for (file, text) in files {
        out.files.push(file.clone());
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(Problem {
                    file: file.clone(),
                    line: e.span().map(|s| line_of(text, s.start)),
                    entry: None,
                    key: None,
                    message: e.message().trim().to_string(),
                });
                continue;
            }
        };
        let mut lookups = Lookups::new();
        for (name, table) in &raw.lookup {
            let mut entries = HashMap::new();
            for (k, v) in table {
                match crate::rules::value::toml_to_json(v) {
                    Ok(v) => {
                        entries.insert(k.clone(), v);
                    }
                    Err(e) => problems.push(Problem {
                        file: file.clone(),
                        line: None,
                        entry: None,
                        key: Some(format!("lookup.{name}.{k}")),
                        message: e,
                    }),
                }
            }
            lookups.insert(name.clone(), Arc::new(entries));
        }
        for entry in raw.target {
            let line = line_of(text, entry.span().start);
            let raw = entry.into_inner();
            let mut found = Problems::new();
            if let Some(first) = names.get(&raw.name) {
                found.push((
                    "name".into(),
                    format!("a target of this name is already declared in {first}"),
                ));
            }
            names.insert(raw.name.clone(), file.clone());
            let target = compile_target(raw, file, &lookups, &mut found);
            let name = target.as_ref().map(|t| t.name.clone());
            problems.extend(found.into_iter().map(|(key, message)| Problem {
                file: file.clone(),
                line: Some(line),
                entry: name.clone().map(|n| ("target", n)),
                key: Some(key),
                message,
            }));
            if let Some(target) = target
                && problems.is_empty()
            {
                out.targets.push(target);
            }
        }
    }
    match problems.is_empty() {
        true => Ok(out),
        false => Err(problems),
    }
}

fn compile_target(
    raw: RawTarget,
    file: &str,
    lookups: &Lookups,
    problems: &mut Problems,
) -> Option<Target> {
    let valid_name = !raw.name.is_empty()
        && raw.name.len() <= 64
        && raw
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_name {
        problems.push((
            "name".into(),
            "up to 64 characters of a-z, 0-9, `-` and `_`".into(),
        ));
    }
    if raw.business.is_empty() {
        problems.push((
            "business".into(),
            "the slug of the business whose events the target takes".into(),
        ));
    }
    let kind = match raw.kind.as_str() {
        "http" => compile_http(&raw, problems).map(|h| Kind::Http(Box::new(h))),
        "folder" => folder_path(&raw, problems).map(Kind::Folder),
        "sftp" => compile_sftp(&raw, problems).map(|s| Kind::Sftp(Box::new(s))),
        "email" => compile_email(&raw, problems).map(|m| Kind::Email(Box::new(m))),
        "nats" => compile_nats(&raw, problems).map(|n| Kind::Nats(Box::new(n))),
        "amqp" => compile_amqp(&raw, problems).map(|a| Kind::Amqp(Box::new(a))),
        other => {
            problems.push((
                "kind".into(),
                format!(
                    "unknown kind `{other}`; the kinds are: http, folder, sftp, email, nats, amqp"
                ),
            ));
            None
        }
    };
    const HTTP: &[&str] = &["http"];
    const FILES: &[&str] = &["folder", "sftp", "email"];
    const SERVER: &[&str] = &["sftp", "email", "nats", "amqp"];
    const AMQP: &[&str] = &["amqp"];
    const SFTP: &[&str] = &["sftp"];
    const EMAIL: &[&str] = &["email"];
    const MAIL_OR_NATS: &[&str] = &["email", "nats"];
    for (key, given, kinds) in [
        ("url", raw.url.is_some(), &["http", "nats", "amqp"][..]),
        ("method", raw.method.is_some(), HTTP),
        ("headers", raw.headers.is_some(), HTTP),
        ("success", raw.success.is_some(), HTTP),
        ("path", raw.path.is_some(), &["folder", "sftp"][..]),
        ("file_name", raw.file_name.is_some(), FILES),
        ("host", raw.host.is_some(), &["sftp", "email"][..]),
        ("port", raw.port.is_some(), &["sftp", "email"][..]),
        ("timeout", raw.timeout.is_some(), SERVER),
        ("user", raw.user.is_some(), SFTP),
        ("host_key", raw.host_key.is_some(), SFTP),
        ("tls", raw.tls.is_some(), EMAIL),
        ("from", raw.from.is_some(), EMAIL),
        ("to", !raw.to.is_empty(), EMAIL),
        ("subject", raw.subject.is_some(), MAIL_OR_NATS),
        ("exchange", raw.exchange.is_some(), AMQP),
        ("routing_key", raw.routing_key.is_some(), AMQP),
    ] {
        if given && !kinds.contains(&raw.kind.as_str()) {
            problems.push((
                key.into(),
                format!(
                    "`{key}` belongs to targets of kind {}, not {}",
                    kinds.join(" or "),
                    raw.kind
                ),
            ));
        }
    }
    if raw.kind == "folder" && raw.auth.is_some() {
        problems.push(("auth".into(), "a folder target takes no `auth`".into()));
    }
    let default_file_name = raw.file_name.as_deref().and_then(|t| {
        TextTemplate::parse_file_name(t)
            .map_err(|e| problems.push(("file_name".into(), e)))
            .ok()
    });
    if raw.mapping.is_empty() {
        problems.push((
            "mapping".into(),
            "a target needs at least one [[target.mapping]]".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut mappings = Vec::new();
    for (i, m) in raw.mapping.iter().enumerate() {
        if !seen.insert(m.name.clone()) {
            problems.push((
                format!("mapping[{i}].name"),
                format!("the target already has a mapping `{}`", m.name),
            ));
        }
        let at = format!("mapping[{i}]");
        if let Some(mut m) = compile_mapping(m, &at, lookups, problems) {
            let files = kind.as_ref().is_some_and(Kind::takes_files);
            if m.file_name.is_none() {
                m.file_name = default_file_name.clone();
            }
            match (files, m.file_name.is_some()) {
                (true, false) => problems.push((
                    format!("{at}.file_name"),
                    "the name of the file each event writes, such as `{$.data.shipment_number}.csv` (here or on the target)".into(),
                )),
                (false, true) if kind.is_some() => problems.push((
                    format!("{at}.file_name"),
                    "only folder and sftp targets write files".into(),
                )),
                _ => {}
            }
            if m.batch.is_some() && !files && kind.is_some() {
                problems.push((
                    format!("{at}.batch"),
                    "only folder, sftp and email targets batch events into files".into(),
                ));
            }
            if files && m.reply {
                problems.push((
                    format!("{at}.reply"),
                    "only an http target's partner answers".into(),
                ));
            }
            mappings.push(m);
        }
    }
    Some(Target {
        name: raw.name,
        business: raw.business,
        file: file.to_string(),
        kind: kind?,
        mappings,
    })
}

fn compile_http(raw: &RawTarget, problems: &mut Problems) -> Option<Http> {
    let url = match raw.url.as_deref().map(UrlTemplate::parse) {
        Some(Ok(url)) => Some(url),
        Some(Err(e)) => {
            problems.push(("url".into(), e));
            None
        }
        None => {
            problems.push((
                "url".into(),
                "the URL requests go to (placeholders such as `{$.data.shipment_number}` are filled from the event)".into(),
            ));
            None
        }
    };
    let method = match raw.method.as_deref().unwrap_or("POST") {
        "POST" => Some(reqwest::Method::POST),
        "PUT" => Some(reqwest::Method::PUT),
        "PATCH" => Some(reqwest::Method::PATCH),
        other => {
            problems.push((
                "method".into(),
                format!("`{other}` is not one of POST, PUT, PATCH"),
            ));
            None
        }
    };
    let auth = raw
        .auth
        .as_ref()
        .and_then(|table| compile_auth(table, problems));
    let mut headers = Vec::new();
    for (name, value) in raw.headers.iter().flatten() {
        let valid = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && reqwest::header::HeaderValue::from_str(value).is_ok();
        if !valid {
            problems.push((
                format!("headers.{name}"),
                "not a valid header name and value".into(),
            ));
        }
        headers.push((name.clone(), value.clone()));
    }
    if let Some(codes) = &raw.success
        && (codes.is_empty() || codes.iter().any(|c| !(100..600).contains(c)))
    {
        problems.push((
            "success".into(),
            "a list of HTTP status codes (100 to 599)".into(),
        ));
    }
    Some(Http {
        url: url?,
        method: method?,
        auth: match raw.auth {
            Some(_) => Some(auth?),
            None => None,
        },
        headers,
        success: raw.success.clone(),
    })
}

fn folder_path(raw: &RawTarget, problems: &mut Problems) -> Option<String> {
    match raw.path.as_deref() {
        Some(path) if !path.trim().is_empty() => Some(path.trim_end_matches('/').to_string()),
        _ => {
            problems.push((
                "path".into(),
                "the directory the files are written to".into(),
            ));
            None
        }
    }
}

fn compile_sftp(raw: &RawTarget, problems: &mut Problems) -> Option<Sftp> {
    let mut fail = |key: &str, message: String| problems.push((key.to_string(), message));
    let host = raw.host.clone().filter(|h| !h.is_empty()).or_else(|| {
        fail("host", "the SFTP server's host name or address".into());
        None
    });
    let user = raw.user.clone().filter(|u| !u.is_empty()).or_else(|| {
        fail("user", "the user to log in as".into());
        None
    });
    let host_key = crate::sources::definition::host_key(raw.host_key.as_deref(), &mut fail);
    let auth = match &raw.auth {
        Some(table) => match toml::Value::Table(table.clone()).try_into::<RawAuth>() {
            Ok(a) => crate::sources::definition::sftp_auth(&a, &mut fail),
            Err(e) => {
                fail("auth", e.message().trim().to_string());
                None
            }
        },
        None => {
            fail(
                "auth",
                "how to log in: `{ kind = \"key\", key_file = … }` or `{ kind = \"password\", password_env = … }`".into(),
            );
            None
        }
    };
    let timeout = timeout_of(raw, 30, problems);
    let path = folder_path(raw, problems)?;
    Some(Sftp {
        host: host?,
        port: raw.port.unwrap_or(22),
        user: user?,
        auth: auth?,
        host_key: host_key?,
        timeout: timeout?,
        files: Files {
            path,
            pattern: "*".into(),
            content_type: None,
            complete: Complete::Stable(std::time::Duration::ZERO),
            after: After::Delete,
            max_files: 0,
        },
    })
}

/// `timeout`, or `default` when not given.
fn timeout_of(
    raw: &RawTarget,
    default: u64,
    problems: &mut Problems,
) -> Option<std::time::Duration> {
    match raw.timeout.as_deref().map(humantime::parse_duration) {
        None => Some(std::time::Duration::from_secs(default)),
        Some(Ok(t)) if !t.is_zero() => Some(t),
        Some(_) => {
            problems.push(("timeout".into(), format!("a duration such as `{default}s`")));
            None
        }
    }
}

fn compile_nats(raw: &RawTarget, problems: &mut Problems) -> Option<Nats> {
    let url = match raw.url.as_deref() {
        Some(u)
            if !u.is_empty()
                && u.split(',').all(|one| {
                    let one = one.trim();
                    one.starts_with("nats://") || one.starts_with("tls://")
                }) =>
        {
            Some(u.to_string())
        }
        Some(u) => {
            problems.push((
                "url".into(),
                format!(
                    "`{u}`: a `nats://host:port` (or `tls://…`) URL, several separated by commas"
                ),
            ));
            None
        }
        None => {
            problems.push(("url".into(), "the NATS server: `nats://host:port`".into()));
            None
        }
    };
    let subject = match raw.subject.as_deref() {
        Some(text) => match TextTemplate::parse_text(text) {
            Ok(t) if !text.trim().is_empty() && !text.contains(char::is_whitespace) => Some(t),
            Ok(_) => {
                problems.push((
                    "subject".into(),
                    "a subject without spaces, such as `freightgate.{$.type}`".into(),
                ));
                None
            }
            Err(e) => {
                problems.push(("subject".into(), e));
                None
            }
        },
        None => {
            problems.push((
                "subject".into(),
                "the subject to publish on, such as `freightgate.{$.data.business}.{$.type}`: a JetStream stream must take it".into(),
            ));
            None
        }
    };
    let auth = broker_auth(
        raw,
        &["bearer", "basic"],
        "NATS takes a token (`kind = \"bearer\"`) or a user and password (`kind = \"basic\"`)",
        problems,
    );
    let timeout = timeout_of(raw, 10, problems);
    Some(Nats {
        url: url?,
        subject: subject?,
        auth: auth?,
        timeout: timeout?,
    })
}

/// A broker target's `auth`, of one of `kinds`; `Some(None)` when there is none.
fn broker_auth(
    raw: &RawTarget,
    kinds: &[&str],
    which: &str,
    problems: &mut Problems,
) -> Option<Option<Auth>> {
    let Some(table) = &raw.auth else {
        return Some(None);
    };
    let mut fail = |key: &str, message: String| problems.push((key.to_string(), message));
    match toml::Value::Table(table.clone()).try_into::<RawAuth>() {
        Ok(a) if kinds.contains(&a.kind.as_str()) => {
            crate::sources::definition::auth(&a, &mut fail).map(Some)
        }
        Ok(_) => {
            fail("auth.kind", which.to_string());
            None
        }
        Err(e) => {
            fail("auth", e.message().trim().to_string());
            None
        }
    }
}

fn compile_amqp(raw: &RawTarget, problems: &mut Problems) -> Option<Amqp> {
    let url = match raw.url.as_deref() {
        None => {
            problems.push((
                "url".into(),
                "the broker: `amqp://host:port/vhost` (`%2f` is the vhost `/`)".into(),
            ));
            None
        }
        Some(u) if !(u.starts_with("amqp://") || u.starts_with("amqps://")) => {
            problems.push((
                "url".into(),
                format!("`{u}`: an `amqp://` or `amqps://` URL"),
            ));
            None
        }
        Some(u) => match u.parse::<lapin::uri::AMQPUri>() {
            Ok(_)
                if u.split_once("://")
                    .and_then(|(_, rest)| rest.split('/').next())
                    .and_then(|authority| authority.rsplit_once('@'))
                    .is_some_and(|(userinfo, _)| userinfo.contains(':')) =>
            {
                problems.push((
                    "url".into(),
                    "a password in the URL would be shown wherever targets are listed: give it in `auth` (`kind = \"basic\"`, with `password = { env = \"…\" }`)".into(),
                ));
                None
            }
            Ok(_) => Some(u.to_string()),
            Err(e) => {
                problems.push(("url".into(), format!("`{u}`: {e}")));
                None
            }
        },
    };
    let exchange = match raw.exchange.as_deref() {
        None => {
            problems.push((
                "exchange".into(),
                "the exchange to publish to (`\"\"` for the default exchange, where the routing key names a queue)".into(),
            ));
            None
        }
        Some(e)
            if e.len() <= 127
                && e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')) =>
        {
            Some(e.to_string())
        }
        Some(e) => {
            problems.push((
                "exchange".into(),
                format!("`{e}`: up to 127 characters of letters, digits, `-`, `_`, `.` and `:`"),
            ));
            None
        }
    };
    let routing_key = match raw.routing_key.as_deref() {
        Some(text) => match TextTemplate::parse_text(text) {
            Ok(t) if !text.contains(char::is_whitespace) && text.len() <= 255 => Some(t),
            Ok(_) => {
                problems.push((
                    "routing_key".into(),
                    "a routing key without spaces, up to 255 bytes, such as `shipment.{$.type}`"
                        .into(),
                ));
                None
            }
            Err(e) => {
                problems.push(("routing_key".into(), e));
                None
            }
        },
        None => {
            problems.push((
                "routing_key".into(),
                "the routing key, such as `freightgate.{$.type}` (with the default exchange, a queue's name)".into(),
            ));
            None
        }
    };
    let auth = broker_auth(
        raw,
        &["basic"],
        "AMQP takes a user and password (`kind = \"basic\"`)",
        problems,
    );
    let timeout = timeout_of(raw, 10, problems);
    Some(Amqp {
        url: url?,
        exchange: exchange?,
        routing_key: routing_key?,
        auth: auth?,
        timeout: timeout?,
    })
}

fn compile_email(raw: &RawTarget, problems: &mut Problems) -> Option<Email> {
    let mut fail = |key: &str, message: String| problems.push((key.to_string(), message));
    let host = raw.host.clone().filter(|h| !h.is_empty()).or_else(|| {
        fail("host", "the mail server's host name or address".into());
        None
    });
    let tls = match raw.tls.as_deref().unwrap_or("starttls") {
        "starttls" => Some(MailTls::StartTls),
        "tls" => Some(MailTls::Tls),
        "none" => Some(MailTls::None),
        other => {
            fail(
                "tls",
                format!("`{other}` is not one of starttls (the default), tls, none"),
            );
            None
        }
    };
    let login = match &raw.auth {
        None => Some(None),
        Some(table) => match toml::Value::Table(table.clone()).try_into::<RawAuth>() {
            Ok(a) if a.kind == "basic" => match crate::sources::definition::auth(&a, &mut fail) {
                Some(Auth::Basic { user, password }) => Some(Some((user, password))),
                _ => None,
            },
            Ok(_) => {
                fail(
                    "auth.kind",
                    "a mail server takes `{ kind = \"basic\", user_env = …, password_env = … }`"
                        .into(),
                );
                None
            }
            Err(e) => {
                fail("auth", e.message().trim().to_string());
                None
            }
        },
    };
    let address = |key: &str, text: &str, fail: &mut dyn FnMut(&str, String)| match text
        .parse::<lettre::Address>(
    ) {
        Ok(_) => Some(text.to_string()),
        Err(e) => {
            fail(key, format!("`{text}` is not a mail address: {e}"));
            None
        }
    };
    let from = match raw.from.as_deref() {
        Some(f) => address("from", f, &mut fail),
        None => {
            fail("from", "the address the mails come from".into());
            None
        }
    };
    if raw.to.is_empty() {
        fail("to", "the addresses the mails go to: a list".into());
    }
    let to: Vec<String> = raw
        .to
        .iter()
        .enumerate()
        .filter_map(|(i, t)| address(&format!("to[{i}]"), t, &mut fail))
        .collect();
    let subject = match TextTemplate::parse_text(raw.subject.as_deref().unwrap_or("{$.type}")) {
        Ok(s) => Some(s),
        Err(e) => {
            fail("subject", e);
            None
        }
    };
    let timeout = timeout_of(raw, 30, problems);
    let tls = tls?;
    let port = raw.port.unwrap_or(match tls {
        MailTls::StartTls => 587,
        MailTls::Tls => 465,
        MailTls::None => 25,
    });
    (to.len() == raw.to.len() && !to.is_empty()).then_some(())?;
    Some(Email {
        host: host?,
        port,
        tls,
        login: login?,
        from: from?,
        to,
        subject: subject?,
        timeout: timeout?,
    })
}

fn compile_auth(table: &toml::Table, problems: &mut Problems) -> Option<TargetAuth> {
    let mut fail = |key: &str, message: String| problems.push((key.to_string(), message));
    if table.get("kind").and_then(toml::Value::as_str) == Some("standard_webhooks") {
        let env = table.get("secret_env").and_then(toml::Value::as_str);
        let file = table.get("secret_file").and_then(toml::Value::as_str);
        let unknown: Vec<&String> = table
            .keys()
            .filter(|k| !matches!(k.as_str(), "kind" | "secret_env" | "secret_file"))
            .collect();
        if !unknown.is_empty() {
            fail(
                "auth",
                format!("standard_webhooks takes `secret_env` or `secret_file`, not {unknown:?}"),
            );
        }
        return match (env, file) {
            (Some(name), None) if !name.is_empty() => {
                Some(TargetAuth::StandardWebhooks(Secret::Env(name.into())))
            }
            (None, Some(path)) if !path.is_empty() => {
                Some(TargetAuth::StandardWebhooks(Secret::File(path.into())))
            }
            _ => {
                fail(
                    "auth.secret_env",
                    "give one of `secret_env` and `secret_file`: where the `whsec_…` secret is"
                        .into(),
                );
                None
            }
        };
    }
    let raw: RawAuth = match toml::Value::Table(table.clone()).try_into() {
        Ok(raw) => raw,
        Err(e) => {
            fail("auth", e.message().trim().to_string());
            return None;
        }
    };
    let known = ["bearer", "basic", "header", "oauth2"];
    if !known.contains(&raw.kind.as_str()) {
        fail(
            "auth.kind",
            format!(
                "unknown kind `{}`; the kinds are: bearer, basic, header, oauth2, standard_webhooks",
                raw.kind
            ),
        );
        return None;
    }
    crate::sources::definition::auth(&raw, &mut fail).map(TargetAuth::Credentials)
}

fn compile_mapping(
    raw: &RawMapping,
    at: &str,
    lookups: &Lookups,
    problems: &mut Problems,
) -> Option<Mapping> {
    let before = problems.len();
    let mut events = Vec::new();
    for (i, name) in raw.events.iter().enumerate() {
        match EventType::parse(name) {
            Some(e) => events.push(e),
            None => problems.push((
                format!("{at}.events[{i}]"),
                format!(
                    "unknown event type `{name}`; the types are: {}",
                    EventType::ALL
                        .iter()
                        .map(|e| e.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if raw.events.is_empty() {
        problems.push((
            format!("{at}.events"),
            "list the event types the mapping takes".into(),
        ));
    }
    let csv_only = [
        ("rows", raw.rows.is_some()),
        ("header", raw.header.is_some()),
        ("delimiter", raw.delimiter.is_some()),
    ];
    if raw.format.as_deref() != Some("csv") {
        for (key, given) in csv_only {
            if given {
                problems.push((
                    format!("{at}.{key}"),
                    "belongs to `format = \"csv\"`".into(),
                ));
            }
        }
    }
    let format = match raw.format.as_deref() {
        None | Some("json") => Some(Format::Json),
        Some("csv") => {
            let rows = raw.rows.as_deref().and_then(|r| {
                JsonPathExpr::parse(r)
                    .map_err(|e| problems.push((format!("{at}.rows"), e)))
                    .ok()
            });
            let delimiter = match raw.delimiter.as_deref() {
                None => Some(b','),
                Some(d) if d.len() == 1 && d != "\"" && d != "\n" => Some(d.as_bytes()[0]),
                Some(_) => {
                    problems.push((
                        format!("{at}.delimiter"),
                        "one ASCII character, such as `;`".into(),
                    ));
                    None
                }
            };
            delimiter.map(|delimiter| Format::Csv {
                rows,
                header: raw.header.unwrap_or(true),
                delimiter,
            })
        }
        Some("fixed_width") => {
            let mut found = Vec::new();
            let layout = match &raw.fixed_width {
                Some(layout) => {
                    crate::rules::reader::layout(&raw.name, layout, encoding_rs::UTF_8, &mut found)
                }
                None => {
                    found.push((
                        "fixed_width".into(),
                        "the layout: `record_type` and `[[target.mapping.fixed_width.record]]`s, as a reader declares them".into(),
                    ));
                    None
                }
            };
            for (key, message) in found {
                problems.push((
                    format!("{at}.{key}"),
                    message.replace("[[reader.", "[[target.mapping."),
                ));
            }
            layout.map(|l| Format::FixedWidth(Arc::new(l)))
        }
        Some("text") => match raw.template.as_deref().map(TextTemplate::parse_text) {
            Some(Ok(t)) => Some(Format::Text(t)),
            Some(Err(e)) => {
                problems.push((format!("{at}.template"), e));
                None
            }
            None => {
                problems.push((
                    format!("{at}.template"),
                    "the text to send, with `{JSONPATH}` placeholders (`{{` for a literal `{`)"
                        .into(),
                ));
                None
            }
        },
        Some("edifact") => Some(Format::Edifact),
        Some("x12") => Some(Format::X12),
        Some(other) => {
            problems.push((
                format!("{at}.format"),
                format!(
                    "unknown format `{other}`; the formats are: json, csv, fixed_width, edifact, x12, text"
                ),
            ));
            None
        }
    };
    let text = raw.format.as_deref() == Some("text");
    if raw.template.is_some() && !text {
        problems.push((
            format!("{at}.template"),
            "belongs to `format = \"text\"`".into(),
        ));
    }
    if raw.fixed_width.is_some() && raw.format.as_deref() != Some("fixed_width") {
        problems.push((
            format!("{at}.fixed_width"),
            "belongs to `format = \"fixed_width\"`".into(),
        ));
    }
    let file_name = raw.file_name.as_deref().and_then(|t| {
        TextTemplate::parse_file_name(t)
            .map_err(|e| problems.push((format!("{at}.file_name"), e)))
            .ok()
    });
    let when = raw
        .when
        .as_ref()
        .and_then(|w| condition::compile(w, &format!("{at}.when"), problems));
    let body = match &raw.body {
        Some(_) if text => {
            problems.push((
                format!("{at}.body"),
                "a text mapping writes its `template`, not a `body`".into(),
            ));
            Template::default()
        }
        Some(table) => template::compile(table, &format!("{at}.body"), lookups, problems),
        None if text => Template::default(),
        None => {
            problems.push((
                format!("{at}.body"),
                "the body to send: a table of the partner's fields".into(),
            ));
            Template::default()
        }
    };
    if raw.body.is_some() && body.is_empty() && problems.len() == before {
        problems.push((format!("{at}.body"), "the body has no fields".into()));
    }
    let headers = match &raw.headers {
        Some(table) => {
            for name in table.keys() {
                if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    problems.push((
                        format!("{at}.headers.{name}"),
                        "not a valid header name".into(),
                    ));
                }
            }
            template::compile(table, &format!("{at}.headers"), lookups, problems)
        }
        None => Template::default(),
    };
    let url = raw.url.as_deref().and_then(|u| {
        UrlTemplate::parse(u)
            .map_err(|e| problems.push((format!("{at}.url"), e)))
            .ok()
    });
    let batch = match raw.batch.as_deref().map(humantime::parse_duration) {
        None => None,
        Some(Ok(period)) if period >= std::time::Duration::from_secs(1) => {
            if period.subsec_nanos() != 0 {
                problems.push((
                    format!("{at}.batch"),
                    "a period of whole seconds, such as `1h` or `15m`".into(),
                ));
            }
            if raw.reply {
                problems.push((
                    format!("{at}.batch"),
                    "a batched mapping takes no `reply`".into(),
                ));
            }
            Some(period)
        }
        Some(_) => {
            problems.push((
                format!("{at}.batch"),
                "the period each file gathers, such as `1h` or `15m` (at least `1s`)".into(),
            ));
            None
        }
    };
    (problems.len() == before).then(|| Mapping {
        name: raw.name.clone(),
        events,
        when,
        body,
        headers,
        url,
        reply: raw.reply,
        format: format.unwrap_or(Format::Json),
        file_name,
        batch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(text: &str) -> Vec<String> {
        match load_texts(&[("t.toml".into(), text.into())]) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .into_iter()
                .map(|p| format!("{}: {}", p.key.unwrap_or_default(), p.message))
                .collect(),
        }
    }

    const MAPPING: &str = "\n[[target.mapping]]\nname = \"m\"\nevents = [\"order.created\"]\nbody = { n = \"$.data.order_number\" }\n";

    #[test]
    fn keys_of_another_kind_and_unknown_kinds_are_named() {
        let found = problems(&format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"folder\"\npath = \"/tmp/x\"\nfile_name = \"a.json\"\nurl = \"https://x.example\"\nhost_key = \"SHA256:x\"{MAPPING}"
        ));
        assert_eq!(
            found,
            [
                "url: `url` belongs to targets of kind http or nats or amqp, not folder",
                "host_key: `host_key` belongs to targets of kind sftp, not folder"
            ]
        );
        let found = problems(&format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"ftp\"{MAPPING}"
        ));
        assert!(
            found[0].contains("the kinds are: http, folder, sftp, email, nats, amqp"),
            "{found:?}"
        );
    }

    #[test]
    fn a_file_target_needs_a_file_name_and_an_http_one_cannot_have_one() {
        let folder = problems(&format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"folder\"\npath = \"/tmp/x\"{MAPPING}"
        ));
        assert!(
            folder[0].starts_with("mapping[0].file_name: the name of the file"),
            "{folder:?}"
        );
        let http = problems(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"http\"\nurl = \"https://x.example\"\n[[target.mapping]]\nname = \"m\"\nevents = [\"order.created\"]\nfile_name = \"x.csv\"\nbody = { n = \"$.x\" }\n",
        );
        assert_eq!(
            http,
            ["mapping[0].file_name: only folder and sftp targets write files"]
        );
        let slash = problems(&format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"folder\"\npath = \"/tmp/x\"\nfile_name = \"../{{$.type}}.csv\"{MAPPING}"
        ));
        assert!(
            slash[0].starts_with("file_name: a file name without a directory"),
            "{slash:?}"
        );
    }

    #[test]
    fn duplicate_names_unknown_events_and_lookups_are_refused() {
        let text = "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"http\"\nurl = \"https://x.example\"\n[[target.mapping]]\nname = \"m\"\nevents = [\"order.made\"]\nbody = { n = { path = \"$.x\", lookup = \"none\" } }\n";
        let found = problems(&format!("{text}{text}"));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("mapping[0].events[0]: unknown event type `order.made`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("mapping[0].body.n.lookup: no lookup table `none`")),
            "{found:?}"
        );
        assert!(found.iter().any(|p| p.starts_with("name: a target of this name is already declared in t.toml")), "{found:?}");
    }

    #[test]
    fn placeholders_are_encoded_for_urls_and_tamed_for_subjects_and_file_names() {
        let event = json!({"type": "order.created", "data": {"n": "A/B C", "s": "x.*>y"}});
        let url = TextTemplate::parse("https://x.example/orders/{$.data.n}").unwrap();
        assert_eq!(
            url.render(&event).unwrap(),
            "https://x.example/orders/A%2FB%20C"
        );
        let subject = TextTemplate::parse_text("fg.{$.type}.{$.data.s}").unwrap();
        assert_eq!(
            subject.render_subject(&event).unwrap(),
            "fg.order_created.x___y"
        );
        let file = TextTemplate::parse_file_name("{$.data.n}.csv").unwrap();
        assert_eq!(file.render_file_name(&event).unwrap(), "A_B_C.csv");
        let missing = TextTemplate::parse("https://x.example/{$.data.none}").unwrap();
        assert_eq!(
            missing.render(&event).unwrap_err(),
            "url: `$.data.none` has no value"
        );
        assert!(TextTemplate::parse("ftp://x.example/").is_err());
    }

    #[test]
    fn mail_and_nats_targets_check_their_addresses_and_servers() {
        let mail = problems(&format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"email\"\nhost = \"smtp.example\"\nfrom = \"not an address\"\nto = []\nfile_name = \"x.csv\"{MAPPING}"
        ));
        assert!(
            mail.iter()
                .any(|p| p.starts_with("from: `not an address` is not a mail address")),
            "{mail:?}"
        );
        assert!(
            mail.iter().any(|p| p.starts_with("to: the addresses")),
            "{mail:?}"
        );
        let nats = problems(&format!(
            "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"nats\"\nurl = \"http://x\"\nsubject = \"a b\"{MAPPING}"
        ));
        assert_eq!(nats.len(), 2, "{nats:?}");
        assert!(
            nats[0].starts_with("url: `http://x`: a `nats://host:port`"),
            "{nats:?}"
        );
        assert!(
            nats[1].starts_with("subject: a subject without spaces"),
            "{nats:?}"
        );
    }

    #[test]
    fn amqp_targets_check_their_broker_exchange_routing_key_and_login() {
        let amqp = |rest: &str| {
            problems(&format!(
                "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"amqp\"\n{rest}{MAPPING}"
            ))
        };
        let good = "url = \"amqp://broker:5672/%2f\"\nexchange = \"freightgate\"\nrouting_key = \"fg.{$.type}\"\n";
        assert_eq!(amqp(good), Vec::<String>::new());
        let missing = amqp("");
        assert_eq!(missing.len(), 3, "{missing:?}");
        assert!(missing[0].starts_with("url: the broker"), "{missing:?}");
        assert!(
            missing[1].starts_with("exchange: the exchange"),
            "{missing:?}"
        );
        assert!(
            missing[2].starts_with("routing_key: the routing key"),
            "{missing:?}"
        );
        let wrong = amqp(
            "url = \"http://broker\"\nexchange = \"a b\"\nrouting_key = \"a b\"\nauth = { kind = \"bearer\", token_env = \"T\" }\nsubject = \"x\"\n",
        );
        assert!(
            wrong
                .iter()
                .any(|p| p.starts_with("url: `http://broker`: an `amqp://`")),
            "{wrong:?}"
        );
        assert!(
            wrong
                .iter()
                .any(|p| p.starts_with("exchange: `a b`: up to 127")),
            "{wrong:?}"
        );
        assert!(
            wrong
                .iter()
                .any(|p| p.starts_with("routing_key: a routing key without spaces")),
            "{wrong:?}"
        );
        assert!(
            wrong
                .iter()
                .any(|p| p.starts_with("auth.kind: AMQP takes a user and password")),
            "{wrong:?}"
        );
        assert!(
            wrong.iter().any(|p| p.starts_with(
                "subject: `subject` belongs to targets of kind email or nats, not amqp"
            )),
            "{wrong:?}"
        );
        let password =
            amqp("url = \"amqp://fg:secret@broker/%2f\"\nexchange = \"\"\nrouting_key = \"q\"\n");
        assert_eq!(password.len(), 1, "{password:?}");
        assert!(
            password[0].starts_with("url: a password in the URL would be shown"),
            "{password:?}"
        );
        // A user without a password is no secret; the default exchange is named "".
        assert_eq!(
            amqp("url = \"amqps://fg@broker/prod\"\nexchange = \"\"\nrouting_key = \"orders\"\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn writer_formats_check_their_settings() {
        let mapping = |rest: &str| {
            problems(&format!(
                "[[target]]\nname = \"t\"\nbusiness = \"b\"\nkind = \"folder\"\npath = \"/tmp/x\"\nfile_name = \"a.txt\"\n[[target.mapping]]\nname = \"m\"\nevents = [\"order.created\"]\nbody = {{ n = \"$.data.order_number\" }}\n{rest}"
            ))
        };
        assert_eq!(mapping("format = \"edifact\"\n"), Vec::<String>::new());
        assert_eq!(mapping("format = \"x12\"\n"), Vec::<String>::new());
        let found = mapping("format = \"x12\"\ndelimiter = \";\"\n");
        assert_eq!(
            found,
            ["mapping[0].delimiter: belongs to `format = \"csv\"`"]
        );
        let found = mapping("format = \"fixed_width\"\n");
        assert!(
            found[0].starts_with("mapping[0].fixed_width: the layout"),
            "{found:?}"
        );
        let found = mapping(
            "format = \"fixed_width\"\n[target.mapping.fixed_width]\nrecord_type = [1, 3]\n[[target.mapping.fixed_width.record]]\ntype = \"ORD\"\nfields = { n = [0, 5] }\n",
        );
        assert!(
            found[0].starts_with(
                "mapping[0].fixed_width.record[0].fields.n: columns are `[start, width]`"
            ),
            "{found:?}"
        );
        let found = mapping("format = \"json\"\n[target.mapping.fixed_width]\nrecord = []\n");
        assert_eq!(
            found,
            ["mapping[0].fixed_width: belongs to `format = \"fixed_width\"`"]
        );
        let found = mapping("format = \"text\"\n");
        assert_eq!(
            found,
            [
                "mapping[0].template: the text to send, with `{JSONPATH}` placeholders (`{{` for a literal `{`)",
                "mapping[0].body: a text mapping writes its `template`, not a `body`"
            ]
        );
        let found = mapping("template = \"x\"\n");
        assert_eq!(
            found,
            ["mapping[0].template: belongs to `format = \"text\"`"]
        );
        let found = mapping("format = \"xml\"\n");
        assert!(
            found[0].ends_with("the formats are: json, csv, fixed_width, edifact, x12, text"),
            "{found:?}"
        );
    }

    #[test]
    fn a_batch_is_a_period_of_whole_seconds_for_file_targets_only() {
        let target = |kind: &str, mapping: &str| {
            problems(&format!(
                "[[target]]\nname = \"t\"\nbusiness = \"b\"\n{kind}\n[[target.mapping]]\nname = \"m\"\nevents = [\"order.created\"]\nbody = {{ n = \"$.data.order_number\" }}\n{mapping}"
            ))
        };
        let folder = "kind = \"folder\"\npath = \"/tmp/x\"\nfile_name = \"a-{$.data.period}.json\"";
        assert_eq!(target(folder, "batch = \"1h\"\n"), Vec::<String>::new());
        assert_eq!(
            target(folder, "batch = \"0s\"\n"),
            [
                "mapping[0].batch: the period each file gathers, such as `1h` or `15m` (at least `1s`)"
            ]
        );
        assert_eq!(
            target(folder, "batch = \"1500ms\"\n"),
            ["mapping[0].batch: a period of whole seconds, such as `1h` or `15m`"]
        );
        assert_eq!(
            target(
                "kind = \"http\"\nurl = \"https://x.example\"",
                "batch = \"1h\"\n"
            ),
            ["mapping[0].batch: only folder, sftp and email targets batch events into files"]
        );
    }

    #[test]
    fn a_routing_key_keeps_values_to_one_word_and_to_255_bytes() {
        let key = TextTemplate::parse_text("fg.{$.type}.{$.data.n}").unwrap();
        let event = serde_json::json!({"type": "order.created", "data": {"n": "A#1*"}});
        assert_eq!(
            key.render_routing_key(&event).unwrap(),
            "fg.order_created.A_1_"
        );
        let long = serde_json::json!({"type": "x".repeat(300), "data": {"n": 1}});
        let error = key.render_routing_key(&long).unwrap_err();
        assert!(error.contains("more than the 255 AMQP allows"), "{error}");
    }
}
