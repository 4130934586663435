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

/// A problem in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub source: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(source) = &self.source {
            write!(f, ": source '{source}'")?;
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
    /// How often it runs, and how much a run's start may be moved (± `jitter`).
    pub every: Duration,
    pub jitter: Duration,
    pub http: Http,
    /// The file it was read from.
    pub file: String,
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

/// The incremental cursor: the highest value of an item field among committed items.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    pub field: JsonPathExpr,
    pub field_text: String,
    /// The cursor before the first run.
    pub initial: Option<String>,
}

/// How the next page is found.
#[derive(Debug, Clone)]
pub(crate) enum Next {
    /// A URL in the page (absolute, or relative to the page's).
    Link(JsonPathExpr),
    /// A value in the page set as a query parameter of the first page's URL.
    Param { name: String, from: JsonPathExpr },
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
    every: String,
    jitter: Option<String>,
    url: String,
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    items: String,
    timeout: Option<String>,
    max_pages: Option<u32>,
    attempts: Option<u32>,
    auth: Option<RawAuth>,
    cursor: Option<RawCursor>,
    next: Option<RawNext>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    kind: String,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCursor {
    field: String,
    initial: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNext {
    link: Option<String>,
    param: Option<String>,
    from: Option<String>,
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
                    source: None,
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
                    source: None,
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
                    source: None,
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
                    source: Some(raw.name.clone()),
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
    if raw.kind != "http" {
        fail(
            "kind",
            format!(
                "unknown kind `{}`: `http` is the kind sources have",
                raw.kind
            ),
        );
    }
    let every = match duration(&raw.every) {
        Ok(d) if d >= MIN_EVERY => Some(d),
        Ok(_) => {
            fail(
                "every",
                format!(
                    "`{}`: give an interval of 1s or more, such as `30m`",
                    raw.every
                ),
            );
            None
        }
        Err(e) => {
            fail("every", e);
            None
        }
    };
    let jitter = match raw.jitter.as_deref().map(duration).transpose() {
        Ok(j) => j.unwrap_or(Duration::ZERO),
        Err(e) => {
            fail("jitter", e);
            Duration::ZERO
        }
    };
    if let Some(every) = every
        && jitter >= every
    {
        fail("jitter", "the jitter must be shorter than `every`".into());
    }
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
    let probe = raw.url.replace("{cursor}", "");
    match reqwest::Url::parse(&probe) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {}
        Ok(url) => fail("url", format!("scheme `{}`: http or https", url.scheme())),
        Err(e) => fail("url", format!("`{}`: {e}", raw.url)),
    }
    for (header, value) in &raw.headers {
        if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(value).is_err()
        {
            fail(
                &format!("headers.{header}"),
                "not a valid HTTP header".into(),
            );
        }
    }
    let items = path(&raw.items, "items", &mut fail);
    let timeout = match raw.timeout.as_deref().map(duration).transpose() {
        Ok(t) => t.unwrap_or(Duration::from_secs(30)),
        Err(e) => {
            fail("timeout", e);
            Duration::ZERO
        }
    };
    let max_pages = raw.max_pages.unwrap_or(100);
    if max_pages == 0 {
        fail("max_pages", "a run fetches at least one page".into());
    }
    let attempts = raw.attempts.unwrap_or(4);
    if !(1..=10).contains(&attempts) {
        fail("attempts", "1 to 10 tries per page".into());
    }
    let auth = raw.auth.as_ref().and_then(|a| auth(a, &mut fail));
    let cursor = raw.cursor.as_ref().and_then(|c| {
        let field = path(&c.field, "cursor.field", &mut fail)?;
        Some(Cursor {
            field,
            field_text: c.field.clone(),
            initial: c.initial.clone(),
        })
    });
    if raw.url.contains("{cursor}") && cursor.is_none() {
        fail(
            "url",
            "`{cursor}` needs a `[source.cursor]` saying which item field it is".into(),
        );
    }
    let next = raw.next.as_ref().and_then(|n| match (&n.link, &n.param, &n.from) {
        (Some(link), None, None) => path(link, "next.link", &mut fail).map(Next::Link),
        (None, Some(param), Some(from)) if !param.is_empty() => {
            path(from, "next.from", &mut fail).map(|from| Next::Param {
                name: param.clone(),
                from,
            })
        }
        _ => {
            fail(
                "next",
                "give `link` (a JSONPath to the next page's URL) or `param` and `from` (a query parameter and the JSONPath of its value)".into(),
            );
            None
        }
    });
    if !ok {
        return None;
    }
    Some(Definition {
        name: raw.name.clone(),
        business: business?,
        every: every?,
        jitter,
        http: Http {
            method: method?,
            url: raw.url.clone(),
            headers: raw
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            auth,
            items: items?,
            items_text: raw.items.clone(),
            cursor,
            next,
            timeout,
            max_pages,
            attempts,
        },
        file: file.to_string(),
    })
}

fn auth(raw: &RawAuth, fail: &mut impl FnMut(&str, String)) -> Option<Auth> {
    // One of `{what}_env` and `{what}_file`.
    let secret = |env: &Option<String>,
                  file: &Option<String>,
                  what: &str,
                  fail: &mut dyn FnMut(&str, String)| {
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
    };
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
        assert_eq!(source.every, Duration::from_secs(1800));
        assert_eq!(source.http.timeout, Duration::from_secs(30));
        assert_eq!(source.http.max_pages, 100);
        assert!(matches!(source.http.next, Some(Next::Param { .. })));
        assert_eq!(
            source.http.auth,
            Some(Auth::Bearer {
                token: Secret::Env("PALLETNET_TOKEN".into())
            })
        );
    }

    #[test]
    fn every_problem_names_its_file_line_source_and_key() {
        let bad = GOOD
            .replace("every = \"30m\"", "every = \"0s\"")
            .replace("kind = \"http\"", "kind = \"ftp\"")
            .replace("$.consignments[*]", "consignments")
            .replace("token_env = \"PALLETNET_TOKEN\"", "token_env = \"\"");
        let problems = load(&bad).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for key in ["every", "kind", "items", "auth.token_env"] {
            assert!(
                text.iter().any(|t| t
                    .starts_with("test.toml:2: source 'palletnet-consignments': ")
                    && t.contains(&format!(": {key}: "))),
                "{key}: {text:?}"
            );
        }
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
            &source.http.auth,
            Some(Auth::OAuth2 { client_secret: Secret::File(path), .. }) if path.to_str() == Some("/run/secret")
        ));
    }
}
