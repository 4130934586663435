//! Source files: `[[source]]` tables in `*.toml` files of the sources directory,
//! checked as a whole when they load so that a bad one names its file, source and
//! key (as rules files do).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::Slug;
use crate::rules::line_of;
use crate::rules::path::JsonPathExpr;

/// Every source of a directory, or every problem of its files.
#[derive(Debug, Clone, Default)]
pub(crate) struct Definitions {
    pub sources: Vec<Definition>,
    /// The files read, in order.
    pub files: Vec<String>,
}

/// A problem in a source or outbound file: the file, the line, the entry it is in
/// (`source 'NAME'`, `target 'NAME'`), the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    /// What kind of entry (`source`, `target`) and its name.
    pub entry: Option<(&'static str, String)>,
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some((kind, name)) = &self.entry {
            write!(f, ": {kind} '{name}'")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One pull source, checked.
#[derive(Debug, Clone)]
pub(crate) struct Definition {
    pub name: String,
    /// The business whose payloads the pulled items are.
    pub business: Slug,
    /// When it runs.
    pub schedule: Schedule,
    /// How much a run's start may be moved (± `jitter`, or up to `jitter` later for a
    /// cron schedule).
    pub jitter: Duration,
    pub kind: Kind,
    /// The file it was read from.
    pub file: String,
}

/// When a source runs.
#[derive(Debug, Clone)]
pub(crate) enum Schedule {
    /// Every so long after the last run started.
    Every(Duration),
    /// At the times a cron expression names, in a time zone.
    Cron {
        cron: Box<croner::Cron>,
        text: String,
        zone: chrono_tz::Tz,
    },
}

impl Schedule {
    /// The schedule as written (`30m`, or the cron expression and its zone).
    pub(crate) fn describe(&self) -> String {
        match self {
            Schedule::Every(every) => humantime::format_duration(*every).to_string(),
            Schedule::Cron { text, zone, .. } => format!("cron {text} ({zone})"),
        }
    }

    /// The first time after `after` the schedule names.
    pub(crate) fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        match self {
            Schedule::Every(every) => {
                after + chrono::Duration::from_std(*every).unwrap_or(chrono::TimeDelta::MAX)
            }
            Schedule::Cron { cron, zone, .. } => cron
                .find_next_occurrence(&after.with_timezone(zone), false)
                .map(|t| t.with_timezone(&chrono::Utc))
                // An expression with no next time (a date long past) never runs
                // again on its own; a year on, to keep the arithmetic finite.
                .unwrap_or(after + chrono::Duration::days(365)),
        }
    }
}

/// What a source pulls from.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Http(Box<Http>),
    /// A directory of this machine (one an SFTP server or a mail gateway writes into).
    Folder(Files),
    /// A directory on a partner's SFTP server.
    Sftp(Box<Sftp>),
}

impl Kind {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Kind::Http(_) => "http",
            Kind::Folder(_) => "folder",
            Kind::Sftp(_) => "sftp",
        }
    }
}

impl Definition {
    /// The source as an HTTP API, when it is one.
    pub(crate) fn as_http(&self) -> Option<HttpSource<'_>> {
        match &self.kind {
            Kind::Http(http) => Some(HttpSource {
                name: &self.name,
                http,
            }),
            _ => None,
        }
    }

    /// The cursor before the first run.
    pub(crate) fn initial_cursor(&self) -> Option<String> {
        match &self.kind {
            Kind::Http(http) => http.cursor.as_ref().and_then(|c| c.initial.clone()),
            _ => None,
        }
    }
}

/// An HTTP source's name and settings, as fetching reads them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpSource<'a> {
    pub name: &'a str,
    pub http: &'a Http,
}

/// Files taken from a directory, once complete, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Files {
    /// The directory (on this machine, or on the SFTP server).
    pub path: String,
    /// Which file names are taken (`*` and `?` wildcards).
    pub pattern: String,
    /// The Content-Type each file is read as; by its extension when not set.
    pub content_type: Option<String>,
    pub complete: Complete,
    pub after: After,
    /// Files one run takes at most; the next run takes the rest.
    pub max_files: u32,
}

/// When a file is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Complete {
    /// Its size and modification time stay the same for this long.
    Stable(Duration),
    /// A file of the same name with this suffix (e.g. `.done`) is beside it.
    Marker(String),
}

/// What becomes of a file once taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum After {
    /// Moved into one of two directories (relative to the source's, or absolute), with
    /// its acknowledgement beside it as `NAME.ack.json`.
    Move { processed: String, failed: String },
    /// Deleted.
    Delete,
}

/// A partner's SFTP server.
#[derive(Debug, Clone)]
pub(crate) struct Sftp {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: SftpAuth,
    /// The server's public key (`ssh-ed25519 AAAA…`) or its fingerprint
    /// (`SHA256:…`): a server that shows another key is not logged in to.
    pub host_key: String,
    pub timeout: Duration,
    pub files: Files,
}

/// How freightgate logs in to an SFTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SftpAuth {
    /// An OpenSSH private key file, with its passphrase when it has one.
    Key {
        file: std::path::PathBuf,
        passphrase: Option<Secret>,
    },
    Password(Secret),
}

/// An HTTP API pulled page by page.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub method: reqwest::Method,
    /// `{cursor}` is replaced by the committed cursor, percent-encoded (empty when
    /// there is none yet).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub auth: Option<Auth>,
    /// Where a page's items are.
    pub items: JsonPathExpr,
    pub items_text: String,
    pub cursor: Option<Cursor>,
    /// Where an item's own id is: an item pulled again is told by it (by its content
    /// when not set), and left alone when its content did not change.
    pub item_id: Option<JsonPathExpr>,
    pub next: Option<Next>,
    pub timeout: Duration,
    /// Pages one run fetches at most; the next run goes on from the cursor.
    pub max_pages: u32,
    /// Tries of one page answered 429 or 503 (waiting as `Retry-After` says).
    pub attempts: u32,
}

/// Credentials, read when a run starts (so a rotated secret needs no reload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    Bearer {
        token: Secret,
    },
    Basic {
        user: Secret,
        password: Secret,
    },
    Header {
        name: String,
        value: Secret,
    },
    /// OAuth 2.0 client credentials (RFC 6749 §4.4): a token from `token_url`, kept
    /// until shortly before it expires.
    OAuth2 {
        token_url: String,
        client_id: Secret,
        client_secret: Secret,
        scope: Option<String>,
    },
}

/// Where a secret is: an environment variable, or a file (a mounted secret; its
/// surrounding whitespace is trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    Env(String),
    File(std::path::PathBuf),
}

impl Secret {
    /// The secret's value, or what is missing.
    pub(crate) fn read(&self) -> Result<String, String> {
        match self {
            Secret::Env(name) => std::env::var(name)
                .map_err(|_| format!("the environment variable `{name}` is not set")),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("cannot read the secret file {}: {e}", path.display())),
        }
    }
}

/// The incremental cursor: the highest value of an item field among committed items,
/// or what a response header says, stored with the page's items.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    pub from: CursorFrom,
    /// The JSONPath, or `header NAME`, as listed.
    pub text: String,
    /// The cursor before the first run.
    pub initial: Option<String>,
}

/// Where the cursor is read.
#[derive(Debug, Clone)]
pub(crate) enum CursorFrom {
    /// The highest value of this item field.
    Field(JsonPathExpr),
    /// The value of this response header (the partner's own position, taken as is).
    Header(String),
}

/// How the next page is found.
#[derive(Debug, Clone)]
pub(crate) enum Next {
    /// A URL in the page (absolute, or relative to the page's).
    Link(JsonPathExpr),
    /// A value in the page set as a query parameter of the first page's URL.
    Param { name: String, from: JsonPathExpr },
    /// Page numbers: the query parameter counts up from `first` (the page the first
    /// URL answers) until a page has no items.
    Page { name: String, first: u64 },
    /// Offsets: the query parameter counts the items fetched so far, until a page
    /// has no items.
    Offset { name: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: String,
    business: String,
    kind: String,
    every: Option<String>,
    cron: Option<String>,
    timezone: Option<String>,
    jitter: Option<String>,
    // http
    url: Option<String>,
    method: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    items: Option<String>,
    item_id: Option<String>,
    max_pages: Option<u32>,
    attempts: Option<u32>,
    cursor: Option<RawCursor>,
    next: Option<RawNext>,
    // http and sftp
    timeout: Option<String>,
    auth: Option<RawAuth>,
    // folder and sftp
    path: Option<String>,
    files: Option<String>,
    content_type: Option<String>,
    settle: Option<String>,
    marker: Option<String>,
    after: Option<String>,
    processed: Option<String>,
    failed: Option<String>,
    max_files: Option<u32>,
    // sftp
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    host_key: Option<String>,
}

impl RawSource {
    /// The keys given that belong to one kind only, with the kinds they belong to.
    fn kind_keys(&self) -> Vec<(&'static str, &'static [&'static str])> {
        const HTTP: &[&str] = &["http"];
        const FILES: &[&str] = &["folder", "sftp"];
        const SFTP: &[&str] = &["sftp"];
        const REMOTE: &[&str] = &["http", "sftp"];
        let keys: [(&str, bool, &[&str]); 24] = [
            ("item_id", self.item_id.is_some(), HTTP),
            ("url", self.url.is_some(), HTTP),
            ("method", self.method.is_some(), HTTP),
            ("headers", self.headers.is_some(), HTTP),
            ("items", self.items.is_some(), HTTP),
            ("max_pages", self.max_pages.is_some(), HTTP),
            ("attempts", self.attempts.is_some(), HTTP),
            ("cursor", self.cursor.is_some(), HTTP),
            ("next", self.next.is_some(), HTTP),
            ("timeout", self.timeout.is_some(), REMOTE),
            ("auth", self.auth.is_some(), REMOTE),
            ("path", self.path.is_some(), FILES),
            ("files", self.files.is_some(), FILES),
            ("content_type", self.content_type.is_some(), FILES),
            ("settle", self.settle.is_some(), FILES),
            ("marker", self.marker.is_some(), FILES),
            ("after", self.after.is_some(), FILES),
            ("processed", self.processed.is_some(), FILES),
            ("failed", self.failed.is_some(), FILES),
            ("max_files", self.max_files.is_some(), FILES),
            ("host", self.host.is_some(), SFTP),
            ("port", self.port.is_some(), SFTP),
            ("user", self.user.is_some(), SFTP),
            ("host_key", self.host_key.is_some(), SFTP),
        ];
        keys.into_iter()
            .filter(|(_, given, _)| *given)
            .map(|(key, _, kinds)| (key, kinds))
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuth {
    pub(crate) kind: String,
    token_env: Option<String>,
    token_file: Option<String>,
    user_env: Option<String>,
    user_file: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    header: Option<String>,
    value_env: Option<String>,
    value_file: Option<String>,
    token_url: Option<String>,
    client_id_env: Option<String>,
    client_id_file: Option<String>,
    client_secret_env: Option<String>,
    client_secret_file: Option<String>,
    scope: Option<String>,
    key_file: Option<String>,
    passphrase_env: Option<String>,
    passphrase_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCursor {
    field: Option<String>,
    header: Option<String>,
    initial: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNext {
    link: Option<String>,
    param: Option<String>,
    from: Option<String>,
    page: Option<String>,
    first: Option<u64>,
    offset: Option<String>,
}

/// Shortest `every` a source may have.
const MIN_EVERY: Duration = Duration::from_secs(1);

/// Reads every `*.toml` file directly in `dir` (none when it does not exist).
pub(crate) fn load_dir(dir: &Path) -> Result<Definitions, Vec<Problem>> {
    let mut sources = Vec::new();
    if dir.is_dir() {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| {
                vec![Problem {
                    file: dir.display().to_string(),
                    line: None,
                    entry: None,
                    key: None,
                    message: format!("cannot read the directory: {e}"),
                }]
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| {
                vec![Problem {
                    file: name.clone(),
                    line: None,
                    entry: None,
                    key: None,
                    message: format!("cannot read: {e}"),
                }]
            })?;
            sources.push((name, text));
        }
    }
    load_sources(&sources)
}

/// Reads source files given as (name, text).
pub(crate) fn load_sources(files: &[(String, String)]) -> Result<Definitions, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Definitions::default();
    let mut seen: HashMap<String, String> = HashMap::new();
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
        for entry in raw.source {
            let line = line_of(text, entry.span().start);
            let raw = entry.into_inner();
            let mut report = |key: &str, message: String| {
                problems.push(Problem {
                    file: file.clone(),
                    line: Some(line),
                    entry: Some(("source", raw.name.clone())),
                    key: Some(key.to_string()),
                    message,
                })
            };
            if let Some(first) = seen.get(&raw.name) {
                report(
                    "name",
                    format!("a source of this name is already defined at {first}"),
                );
                continue;
            }
            seen.insert(raw.name.clone(), format!("{file}:{line}"));
            if let Some(source) = compile(&raw, file, &mut report) {
                out.sources.push(source);
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn compile(
    raw: &RawSource,
    file: &str,
    report: &mut impl FnMut(&str, String),
) -> Option<Definition> {
    let mut ok = true;
    let mut fail = |key: &str, message: String| {
        ok = false;
        report(key, message);
    };
    let name_ok = !raw.name.is_empty()
        && raw.name.len() <= 64
        && raw
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        fail(
            "name",
            "a source's name is 1 to 64 characters of a-z, 0-9 and `-` (it is part of URLs)".into(),
        );
    }
    let business = Slug::parse(&raw.business)
        .map_err(|e| fail("business", e.to_string()))
        .ok();
    let known = ["http", "folder", "sftp"];
    if !known.contains(&raw.kind.as_str()) {
        fail(
            "kind",
            format!("unknown kind `{}`: http, folder or sftp", raw.kind),
        );
    } else {
        for (key, kinds) in raw.kind_keys() {
            if !kinds.contains(&raw.kind.as_str()) {
                fail(
                    key,
                    format!(
                        "`{key}` is a setting of {} sources, not of `{}` ones",
                        kinds.join(" and "),
                        raw.kind
                    ),
                );
            }
        }
    }
    let schedule = schedule(raw, &mut fail);
    let jitter = match raw.jitter.as_deref().map(duration).transpose() {
        Ok(j) => j.unwrap_or(Duration::ZERO),
        Err(e) => {
            fail("jitter", e);
            Duration::ZERO
        }
    };
    if let Some(Schedule::Every(every)) = &schedule
        && jitter >= *every
    {
        fail("jitter", "the jitter must be shorter than `every`".into());
    }
    let timeout = match raw.timeout.as_deref().map(duration).transpose() {
        Ok(t) => t.unwrap_or(Duration::from_secs(30)),
        Err(e) => {
            fail("timeout", e);
            Duration::ZERO
        }
    };
    let kind = match raw.kind.as_str() {
        "http" => http(raw, timeout, &mut fail).map(|h| Kind::Http(Box::new(h))),
        "folder" => files(raw, &mut fail).map(Kind::Folder),
        "sftp" => sftp(raw, timeout, &mut fail).map(|s| Kind::Sftp(Box::new(s))),
        _ => None,
    };
    if !ok {
        return None;
    }
    Some(Definition {
        name: raw.name.clone(),
        business: business?,
        schedule: schedule?,
        jitter,
        kind: kind?,
        file: file.to_string(),
    })
}

fn schedule(raw: &RawSource, fail: &mut impl FnMut(&str, String)) -> Option<Schedule> {
    match (&raw.every, &raw.cron) {
        (Some(every), None) => {
            if raw.timezone.is_some() {
                fail(
                    "timezone",
                    "a time zone is for `cron` schedules; `every` counts from the last run".into(),
                );
            }
            match duration(every) {
                Ok(d) if d >= MIN_EVERY => Some(Schedule::Every(d)),
                Ok(_) => {
                    fail(
                        "every",
                        format!("`{every}`: give an interval of 1s or more, such as `30m`"),
                    );
                    None
                }
                Err(e) => {
                    fail("every", e);
                    None
                }
            }
        }
        (None, Some(text)) => {
            let zone = match raw
                .timezone
                .as_deref()
                .unwrap_or("UTC")
                .parse::<chrono_tz::Tz>()
            {
                Ok(zone) => Some(zone),
                Err(_) => {
                    fail(
                        "timezone",
                        format!(
                            "`{}`: an IANA time zone, such as `Europe/Amsterdam`",
                            raw.timezone.as_deref().unwrap_or_default()
                        ),
                    );
                    None
                }
            };
            // Five fields, or six with seconds first.
            let cron = text.parse::<croner::Cron>();
            match cron {
                Ok(cron) => Some(Schedule::Cron {
                    cron: Box::new(cron),
                    text: text.clone(),
                    zone: zone?,
                }),
                Err(e) => {
                    fail(
                        "cron",
                        format!(
                            "`{text}`: {e} (five fields, minute hour day month weekday, such as `*/30 * * * *`, or six with seconds first)"
                        ),
                    );
                    None
                }
            }
        }
        _ => {
            fail(
                "every",
                "give one of `every` (an interval, such as `30m`) and `cron` (such as `*/30 6-20 * * 1-5`)".into(),
            );
            None
        }
    }
}

fn http(raw: &RawSource, timeout: Duration, fail: &mut impl FnMut(&str, String)) -> Option<Http> {
    let method = match raw
        .method
        .as_deref()
        .unwrap_or("GET")
        .to_ascii_uppercase()
        .as_str()
    {
        "GET" => Some(reqwest::Method::GET),
        "POST" => Some(reqwest::Method::POST),
        other => {
            fail("method", format!("`{other}`: GET or POST"));
            None
        }
    };
    let url = raw.url.clone().or_else(|| {
        fail(
            "url",
            "the URL of the first page (`{cursor}` is replaced by the cursor)".into(),
        );
        None
    });
    if let Some(url) = &url {
        let probe = url.replace("{cursor}", "");
        match reqwest::Url::parse(&probe) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            Ok(parsed) => fail(
                "url",
                format!("scheme `{}`: http or https", parsed.scheme()),
            ),
            Err(e) => fail("url", format!("`{url}`: {e}")),
        }
    }
    let headers = raw.headers.clone().unwrap_or_default();
    for (header, value) in &headers {
        if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(value).is_err()
        {
            fail(
                &format!("headers.{header}"),
                "not a valid HTTP header".into(),
            );
        }
    }
    let items_text = raw.items.clone().or_else(|| {
        fail(
            "items",
            "the JSONPath of a page's items, such as `$.data[*]`".into(),
        );
        None
    });
    let items = items_text
        .as_deref()
        .and_then(|text| path(text, "items", fail));
    let item_id = raw
        .item_id
        .as_deref()
        .and_then(|text| path(text, "item_id", fail));
    let max_pages = raw.max_pages.unwrap_or(100);
    if max_pages == 0 {
        fail("max_pages", "a run fetches at least one page".into());
    }
    let attempts = raw.attempts.unwrap_or(4);
    if !(1..=10).contains(&attempts) {
        fail("attempts", "1 to 10 tries per page".into());
    }
    let auth = raw.auth.as_ref().and_then(|a| auth(a, fail));
    let cursor = raw.cursor.as_ref().and_then(|c| {
        let (from, text) = match (&c.field, &c.header) {
            (Some(field), None) => (
                CursorFrom::Field(path(field, "cursor.field", fail)?),
                field.clone(),
            ),
            (None, Some(header))
                if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_ok() =>
            {
                (CursorFrom::Header(header.clone()), format!("header {header}"))
            }
            _ => {
                fail(
                    "cursor",
                    "give `field` (the JSONPath of the item field whose highest value is the cursor) or `header` (a response header holding it)".into(),
                );
                return None;
            }
        };
        Some(Cursor {
            from,
            text,
            initial: c.initial.clone(),
        })
    });
    if url.as_deref().is_some_and(|u| u.contains("{cursor}")) && cursor.is_none() {
        fail(
            "url",
            "`{cursor}` needs a `[source.cursor]` saying which item field it is".into(),
        );
    }
    let next = raw.next.as_ref().and_then(|n| {
        let given = [
            n.link.is_some(),
            n.param.is_some() || n.from.is_some(),
            n.page.is_some() || n.first.is_some(),
            n.offset.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            fail(
                "next",
                "give one of `link` (a JSONPath to the next page's URL), `param` and `from` (a query parameter and the JSONPath of its value), `page` (a page-number parameter, with `first`, default 1) or `offset` (an offset parameter)".into(),
            );
            return None;
        }
        let named = |name: &String, key: &str, fail: &mut dyn FnMut(&str, String)| {
            if name.is_empty() {
                fail(key, "the query parameter's name".into());
                None
            } else {
                Some(name.clone())
            }
        };
        if let Some(link) = &n.link {
            return path(link, "next.link", fail).map(Next::Link);
        }
        if let Some(name) = &n.page {
            return named(name, "next.page", fail).map(|name| Next::Page {
                name,
                first: n.first.unwrap_or(1),
            });
        }
        if let Some(name) = &n.offset {
            return named(name, "next.offset", fail).map(|name| Next::Offset { name });
        }
        match (&n.param, &n.from) {
            (Some(param), Some(from)) => {
                let name = named(param, "next.param", fail);
                let from = path(from, "next.from", fail);
                Some(Next::Param {
                    name: name?,
                    from: from?,
                })
            }
            _ => {
                fail(
                    "next",
                    "`param` and `from` go together: the query parameter and the JSONPath of its value in the page".into(),
                );
                None
            }
        }
    });
    Some(Http {
        method: method?,
        url: url?,
        headers: headers.into_iter().collect(),
        auth,
        items: items?,
        items_text: items_text?,
        cursor,
        item_id,
        next,
        timeout,
        max_pages,
        attempts,
    })
}

fn files(raw: &RawSource, fail: &mut impl FnMut(&str, String)) -> Option<Files> {
    let path = raw.path.clone().filter(|p| !p.is_empty()).or_else(|| {
        fail("path", "the directory the files are taken from".into());
        None
    });
    let pattern = raw.files.clone().unwrap_or_else(|| "*".into());
    if pattern.is_empty() || pattern.contains('/') {
        fail(
            "files",
            "a file name pattern with `*` and `?`, such as `*.csv` (no directories)".into(),
        );
    }
    if let Some(content_type) = &raw.content_type
        && reqwest::header::HeaderValue::from_str(content_type).is_err()
    {
        fail("content_type", "not a valid Content-Type".into());
    }
    let complete = match (&raw.marker, &raw.settle) {
        (Some(_), Some(_)) => {
            fail(
                "marker",
                "give `marker` (a file that says another is complete) or `settle` (how long a file's size stays the same), not both".into(),
            );
            None
        }
        (Some(marker), None) => {
            if marker.is_empty() || marker.contains('/') {
                fail(
                    "marker",
                    "the suffix of the marker file, such as `.done`".into(),
                );
            }
            Some(Complete::Marker(marker.clone()))
        }
        (None, settle) => match settle.as_deref().map(duration).transpose() {
            Ok(d) => Some(Complete::Stable(d.unwrap_or(Duration::from_secs(2)))),
            Err(e) => {
                fail("settle", e);
                None
            }
        },
    };
    let after = match raw.after.as_deref().unwrap_or("move") {
        "move" => {
            let processed = raw.processed.clone().unwrap_or_else(|| "processed".into());
            let failed = raw.failed.clone().unwrap_or_else(|| "failed".into());
            for (key, dir) in [("processed", &processed), ("failed", &failed)] {
                if dir.is_empty() || dir.split('/').any(|part| part == "..") {
                    fail(
                        key,
                        "a directory, relative to `path` or absolute, without `..`".into(),
                    );
                }
            }
            Some(After::Move { processed, failed })
        }
        "delete" => {
            for (key, given) in [
                ("processed", raw.processed.is_some()),
                ("failed", raw.failed.is_some()),
            ] {
                if given {
                    fail(
                        key,
                        "files are deleted (`after = \"delete\"`), so they are not moved anywhere"
                            .into(),
                    );
                }
            }
            Some(After::Delete)
        }
        other => {
            fail(
                "after",
                format!(
                    "`{other}`: move (into `processed` or `failed`, with an acknowledgement) or delete"
                ),
            );
            None
        }
    };
    let max_files = raw.max_files.unwrap_or(100);
    if max_files == 0 {
        fail("max_files", "a run takes at least one file".into());
    }
    Some(Files {
        path: path?,
        pattern,
        content_type: raw.content_type.clone(),
        complete: complete?,
        after: after?,
        max_files,
    })
}

fn sftp(raw: &RawSource, timeout: Duration, fail: &mut impl FnMut(&str, String)) -> Option<Sftp> {
    let files = files(raw, fail);
    let host = raw.host.clone().filter(|h| !h.is_empty()).or_else(|| {
        fail("host", "the SFTP server's host name or address".into());
        None
    });
    let user = raw.user.clone().filter(|u| !u.is_empty()).or_else(|| {
        fail("user", "the user to log in as".into());
        None
    });
    let host_key = host_key(raw.host_key.as_deref(), fail);
    let auth = match &raw.auth {
        Some(a) => sftp_auth(a, fail),
        None => {
            fail(
                "auth",
                "how to log in: `{ kind = \"key\", key_file = … }` or `{ kind = \"password\", password_env = … }`".into(),
            );
            None
        }
    };
    Some(Sftp {
        host: host?,
        port: raw.port.unwrap_or(22),
        user: user?,
        auth: auth?,
        host_key: host_key?,
        timeout,
        files: files?,
    })
}

/// A pinned SFTP host key: an OpenSSH public key line or a `SHA256:` fingerprint.
pub(crate) fn host_key(key: Option<&str>, fail: &mut impl FnMut(&str, String)) -> Option<String> {
    match key {
        Some(key) if key.starts_with("SHA256:") => Some(key.to_string()),
        Some(key) => match russh::keys::PublicKey::from_openssh(key) {
            Ok(_) => Some(key.to_string()),
            Err(e) => {
                fail(
                    "host_key",
                    format!(
                        "not an OpenSSH public key (`ssh-ed25519 AAAA…`) or fingerprint (`SHA256:…`): {e}"
                    ),
                );
                None
            }
        },
        None => {
            fail(
                "host_key",
                "the server's public key (a line of `ssh-keyscan`, without the host) or its SHA256 fingerprint: freightgate logs in only to the server it expects".into(),
            );
            None
        }
    }
}

/// How to log in to an SFTP server: `kind = "key"` or `"password"`.
pub(crate) fn sftp_auth(raw: &RawAuth, fail: &mut impl FnMut(&str, String)) -> Option<SftpAuth> {
    match raw.kind.as_str() {
        "key" => {
            let file = raw.key_file.clone().filter(|f| !f.is_empty()).or_else(|| {
                fail(
                    "auth.key_file",
                    "the OpenSSH private key file to log in with".into(),
                );
                None
            });
            let passphrase = match (&raw.passphrase_env, &raw.passphrase_file) {
                (None, None) => None,
                (env, file) => secret(env, file, "passphrase", fail),
            };
            Some(SftpAuth::Key {
                file: file?.into(),
                passphrase,
            })
        }
        "password" => {
            secret(&raw.password_env, &raw.password_file, "password", fail).map(SftpAuth::Password)
        }
        other => {
            fail(
                "auth.kind",
                format!("`{other}`: an SFTP source logs in with a key or a password"),
            );
            None
        }
    }
}

/// One of `{what}_env` and `{what}_file`.
fn secret(
    env: &Option<String>,
    file: &Option<String>,
    what: &str,
    fail: &mut dyn FnMut(&str, String),
) -> Option<Secret> {
    match (env, file) {
        (Some(name), None) if !name.is_empty() => Some(Secret::Env(name.clone())),
        (None, Some(path)) if !path.is_empty() => Some(Secret::File(path.into())),
        _ => {
            fail(
                &format!("auth.{what}_env"),
                format!(
                    "give one of `{what}_env` (the environment variable holding the {what}) and `{what}_file` (a file holding it)"
                ),
            );
            None
        }
    }
}

/// The credentials of an `auth` table of kind bearer, basic, header or oauth2.
pub(crate) fn auth(raw: &RawAuth, fail: &mut impl FnMut(&str, String)) -> Option<Auth> {
    match raw.kind.as_str() {
        "bearer" => Some(Auth::Bearer {
            token: secret(&raw.token_env, &raw.token_file, "token", fail)?,
        }),
        "basic" => {
            let user = secret(&raw.user_env, &raw.user_file, "user", fail);
            let password = secret(&raw.password_env, &raw.password_file, "password", fail);
            Some(Auth::Basic {
                user: user?,
                password: password?,
            })
        }
        "header" => {
            let name = raw
                .header
                .clone()
                .filter(|h| reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_ok());
            if name.is_none() {
                fail(
                    "auth.header",
                    "the header's name, such as `X-Api-Key`".into(),
                );
            }
            let value = secret(&raw.value_env, &raw.value_file, "value", fail);
            Some(Auth::Header {
                name: name?,
                value: value?,
            })
        }
        "oauth2" => {
            let token_url = match raw.token_url.as_deref().map(reqwest::Url::parse) {
                Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => Some(url.to_string()),
                Some(_) => {
                    fail("auth.token_url", "an http or https URL".into());
                    None
                }
                None => {
                    fail("auth.token_url", "the URL tokens are requested from".into());
                    None
                }
            };
            let client_id = secret(&raw.client_id_env, &raw.client_id_file, "client_id", fail);
            let client_secret = secret(
                &raw.client_secret_env,
                &raw.client_secret_file,
                "client_secret",
                fail,
            );
            Some(Auth::OAuth2 {
                token_url: token_url?,
                client_id: client_id?,
                client_secret: client_secret?,
                scope: raw.scope.clone(),
            })
        }
        other => {
            fail(
                "auth.kind",
                format!("`{other}`: bearer, basic, header or oauth2"),
            );
            None
        }
    }
}

fn path(text: &str, key: &str, fail: &mut impl FnMut(&str, String)) -> Option<JsonPathExpr> {
    JsonPathExpr::parse(text).map_err(|e| fail(key, e)).ok()
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Definitions, Vec<Problem>> {
        load_sources(&[("test.toml".into(), text.into())])
    }

    const GOOD: &str = r#"
[[source]]
name = "palletnet-consignments"
business = "northwind"
kind = "http"
every = "30m"
jitter = "1m"
url = "https://api.example.net/v1/consignments?updated_since={cursor}"
items = "$.consignments[*]"
auth = { kind = "bearer", token_env = "PALLETNET_TOKEN" }
cursor = { field = "$.updated_at", initial = "2026-01-01T00:00:00Z" }
next = { param = "page_token", from = "$.next_page_token" }
"#;

    #[test]
    fn a_source_loads_with_its_defaults() {
        let defs = load(GOOD).unwrap();
        let source = &defs.sources[0];
        let http = source.as_http().unwrap().http;
        assert!(matches!(source.schedule, Schedule::Every(d) if d == Duration::from_secs(1800)));
        assert_eq!(http.timeout, Duration::from_secs(30));
        assert_eq!(http.max_pages, 100);
        assert!(matches!(http.next, Some(Next::Param { .. })));
        assert_eq!(
            http.auth,
            Some(Auth::Bearer {
                token: Secret::Env("PALLETNET_TOKEN".into())
            })
        );
    }

    #[test]
    fn every_problem_names_its_file_line_source_and_key() {
        let bad = GOOD
            .replace("every = \"30m\"", "every = \"0s\"")
            .replace("$.consignments[*]", "consignments")
            .replace("token_env = \"PALLETNET_TOKEN\"", "token_env = \"\"");
        let problems = load(&bad).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for key in ["every", "items", "auth.token_env"] {
            assert!(
                text.iter().any(|t| t
                    .starts_with("test.toml:2: source 'palletnet-consignments': ")
                    && t.contains(&format!(": {key}: "))),
                "{key}: {text:?}"
            );
        }
        let ftp = GOOD.replace("kind = \"http\"", "kind = \"ftp\"");
        assert_eq!(load(&ftp).unwrap_err()[0].key.as_deref(), Some("kind"));
        let twice = format!("{GOOD}{GOOD}");
        let problems = load(&twice).unwrap_err();
        assert!(
            problems[0]
                .message
                .contains("already defined at test.toml:2"),
            "{problems:?}"
        );
        let unknown = GOOD.replace("jitter = \"1m\"", "jiter = \"1m\"");
        assert!(load(&unknown).unwrap_err()[0].message.contains("jiter"));
        let cursorless = GOOD.replace(
            "cursor = { field = \"$.updated_at\", initial = \"2026-01-01T00:00:00Z\" }\n",
            "",
        );
        assert!(
            load(&cursorless).unwrap_err()[0]
                .message
                .contains("{cursor}")
        );
        let oauth = GOOD.replace(
            "auth = { kind = \"bearer\", token_env = \"PALLETNET_TOKEN\" }",
            "auth = { kind = \"oauth2\", client_id_env = \"ID\", client_secret_file = \"/run/secret\" }",
        );
        let problems = load(&oauth).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key.as_deref(), Some("auth.token_url"));
        let oauth = oauth.replace(
            "kind = \"oauth2\",",
            "kind = \"oauth2\", token_url = \"https://id.example/token\",",
        );
        let source = &load(&oauth).unwrap().sources[0];
        assert!(matches!(
            &source.as_http().unwrap().http.auth,
            Some(Auth::OAuth2 { client_secret: Secret::File(path), .. }) if path.to_str() == Some("/run/secret")
        ));
    }

    const FOLDER: &str = r#"
[[source]]
name = "drop"
business = "northwind"
kind = "folder"
cron = "*/30 6-20 * * 1-5"
timezone = "Europe/Amsterdam"
path = "/srv/drop"
files = "*.csv"
"#;

    #[test]
    fn a_folder_source_has_defaults_and_a_cron_schedule_in_its_zone() {
        let defs = load(FOLDER).unwrap();
        let source = &defs.sources[0];
        let Kind::Folder(files) = &source.kind else {
            panic!("a folder: {:?}", source.kind);
        };
        assert_eq!(files.complete, Complete::Stable(Duration::from_secs(2)));
        assert_eq!(
            files.after,
            After::Move {
                processed: "processed".into(),
                failed: "failed".into()
            }
        );
        assert_eq!(files.max_files, 100);
        // Friday 2026-12-04 20:45 in Amsterdam (19:45 UTC): next is Monday 06:00
        // there, 05:00 UTC.
        let after = chrono::DateTime::parse_from_rfc3339("2026-12-04T19:45:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            source.schedule.next_after(after).to_rfc3339(),
            "2026-12-07T05:00:00+00:00"
        );
        assert_eq!(
            source.schedule.describe(),
            "cron */30 6-20 * * 1-5 (Europe/Amsterdam)"
        );
    }

    #[test]
    fn settings_of_another_kind_and_bad_schedules_are_named() {
        let problems = load(&FOLDER.replace(
            "files = \"*.csv\"",
            "files = \"*.csv\"\nurl = \"https://x.example/\"\nhost = \"sftp.example\"",
        ))
        .unwrap_err();
        let keys: Vec<&str> = problems.iter().filter_map(|p| p.key.as_deref()).collect();
        assert_eq!(keys, ["url", "host"], "{problems:?}");
        assert!(problems[0].message.contains("a setting of http sources"));

        let problems = load(&FOLDER.replace("*/30 6-20 * * 1-5", "every half hour")).unwrap_err();
        assert_eq!(problems[0].key.as_deref(), Some("cron"), "{problems:?}");
        let problems = load(&FOLDER.replace("Europe/Amsterdam", "Mars/Olympus")).unwrap_err();
        assert_eq!(problems[0].key.as_deref(), Some("timezone"), "{problems:?}");
        let both = FOLDER.replace("kind = \"folder\"", "kind = \"folder\"\nevery = \"5m\"");
        assert_eq!(load(&both).unwrap_err()[0].key.as_deref(), Some("every"));
        let marker_and_settle = FOLDER.replace(
            "files = \"*.csv\"",
            "files = \"*.csv\"\nmarker = \".done\"\nsettle = \"5s\"",
        );
        assert_eq!(
            load(&marker_and_settle).unwrap_err()[0].key.as_deref(),
            Some("marker")
        );
    }

    #[test]
    fn an_sftp_source_needs_a_pinned_host_key_and_a_way_to_log_in() {
        let sftp = r#"
[[source]]
name = "partner-out"
business = "northwind"
kind = "sftp"
every = "15m"
host = "sftp.partner.example"
user = "northwind"
path = "/out"
"#;
        let problems = load(sftp).unwrap_err();
        let keys: Vec<&str> = problems.iter().filter_map(|p| p.key.as_deref()).collect();
        assert_eq!(keys, ["host_key", "auth"], "{problems:?}");
        let good = format!(
            "{sftp}host_key = \"SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\"\nauth = {{ kind = \"key\", key_file = \"/run/secrets/id_ed25519\" }}\nafter = \"delete\"\n"
        );
        let source = &load(&good).unwrap().sources[0];
        let Kind::Sftp(sftp) = &source.kind else {
            panic!("sftp: {:?}", source.kind);
        };
        assert_eq!((sftp.port, sftp.files.after.clone()), (22, After::Delete));
        let bad_key = good.replace(
            "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
            "ssh-ed25519 not-base64",
        );
        assert_eq!(
            load(&bad_key).unwrap_err()[0].key.as_deref(),
            Some("host_key")
        );
    }
}
