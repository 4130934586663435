//! Fetching a source's pages over HTTP: the first page's URL from the cursor, the
//! next page's from the page, credentials, `Retry-After`, and the items and cursor
//! values a page holds. Storing them is the application's (`app::pull`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::definition::{Auth, CursorFrom, HttpSource, Next};
use crate::rules::path::{JsonPathExpr, Scope as PathScope};

/// A page's items.
pub(crate) fn items(source: &HttpSource<'_>, page: &Value) -> Vec<Value> {
    select(&source.http.items, page)
        .into_iter()
        .cloned()
        .collect()
}

/// An item's key (its declared id, or its digest when the source declares none or
/// the item has none) and the digest of its content.
pub(crate) fn identify(source: &HttpSource<'_>, item: &Value) -> (String, String) {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(item).unwrap_or_default(),
    ));
    let id = source
        .http
        .item_id
        .as_ref()
        .and_then(|path| select(path, item).first().copied())
        .filter(|v| !v.is_null())
        .map(as_cursor)
        .filter(|id| !id.is_empty());
    let key = match id {
        Some(id) if id.len() <= 200 => format!("id:{id}"),
        Some(id) => format!(
            "id-sha256:{}",
            hex::encode(sha2::Sha256::digest(id.as_bytes()))
        ),
        None => format!("sha256:{digest}"),
    };
    (key, digest)
}

/// The cursor once a page is stored: the highest among `items` and `high`, or the
/// page's cursor header (`headers`; none for a recorded page).
pub(crate) fn high_water(
    source: &HttpSource<'_>,
    items: &[Value],
    headers: Option<&reqwest::header::HeaderMap>,
    mut high: Option<String>,
) -> Option<String> {
    let Some(cursor) = &source.http.cursor else {
        return high;
    };
    let field = match &cursor.from {
        CursorFrom::Field(field) => field,
        CursorFrom::Header(name) => {
            return headers
                .and_then(|h| h.get(name.as_str()))
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .or(high);
        }
    };
    for item in items {
        if let Some(value) = select(field, item).first() {
            let value = as_cursor(value);
            if high.as_deref().is_none_or(|h| later(&value, h)) {
                high = Some(value);
            }
        }
    }
    high
}

/// The first page's URL: the template with the cursor, percent-encoded.
pub(crate) fn first_url(
    source: &HttpSource<'_>,
    cursor: Option<&str>,
) -> std::result::Result<reqwest::Url, String> {
    let text = source
        .http
        .url
        .replace("{cursor}", &percent_encode(cursor.unwrap_or_default()));
    reqwest::Url::parse(&text).map_err(|e| fetch_error(source, format!("the url `{text}`: {e}")))
}

/// Every byte but RFC 3986's unreserved characters, percent-encoded.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The next page's URL, if there is one: named by the page (`link`, `param`), or the
/// next page number or offset after a page of `items` items.
pub(crate) fn next_url(
    source: &HttpSource<'_>,
    first: &reqwest::Url,
    current: &reqwest::Url,
    page: &Value,
    items: usize,
) -> std::result::Result<Option<reqwest::Url>, String> {
    let Some(next) = &source.http.next else {
        return Ok(None);
    };
    let counted = |name: &str| {
        current
            .query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    let (name, value) = match next {
        Next::Link(path) | Next::Param { from: path, .. } => {
            let value = match select(path, page).first() {
                None | Some(Value::Null) => return Ok(None),
                Some(Value::String(s)) if s.is_empty() => return Ok(None),
                Some(v) => as_cursor(v),
            };
            match next {
                Next::Param { name, .. } => (name, value),
                _ => {
                    return current.join(&value).map(Some).map_err(|e| {
                        fetch_error(source, format!("the next page's link `{value}`: {e}"))
                    });
                }
            }
        }
        Next::Page { name, first } => (name, (counted(name).unwrap_or(*first) + 1).to_string()),
        Next::Offset { name } => (
            name,
            (counted(name).unwrap_or(0) + items as u64).to_string(),
        ),
    };
    let mut url = first.clone();
    let kept: Vec<(String, String)> = first
        .query_pairs()
        .filter(|(k, _)| k != name.as_str())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(name, &value);
    Ok(Some(url))
}

/// One page and its response headers, tried again on 429 and 503 as `Retry-After`
/// says (at most a minute).
pub(crate) async fn fetch(
    client: &reqwest::Client,
    tokens: &Tokens,
    source: &HttpSource<'_>,
    url: &reqwest::Url,
) -> std::result::Result<(Value, reqwest::header::HeaderMap), String> {
    let http = &source.http;
    let mut attempt = 0;
    let mut fresh_token = false;
    loop {
        attempt += 1;
        let mut request = client
            .request(http.method.clone(), url.clone())
            .timeout(http.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        for (name, value) in &http.headers {
            request = request.header(name, value);
        }
        request = authorize(request, client, tokens, source).await?;
        let response = request
            .send()
            .await
            .map_err(|e| fetch_error(source, format!("GET {}: {e}", redact(url))))?;
        let status = response.status();
        // An OAuth 2.0 token the partner no longer takes (revoked, expired early):
        // one more try with a new one.
        if status.as_u16() == 401 && matches!(http.auth, Some(Auth::OAuth2 { .. })) && !fresh_token
        {
            tokens.forget(source.name).await;
            fresh_token = true;
            attempt -= 1;
            continue;
        }
        if (status.as_u16() == 429 || status.as_u16() == 503) && attempt < http.attempts {
            let wait = retry_after(&response).unwrap_or(Duration::from_secs(1 << attempt.min(5)));
            tracing::info!(
                source = source.name,
                status = status.as_u16(),
                wait_secs = wait.as_secs_f64(),
                "the partner asked to wait; trying the page again"
            );
            tokio::time::sleep(wait.min(Duration::from_secs(60))).await;
            continue;
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let shown: String = text.chars().take(200).collect();
            return Err(fetch_error(
                source,
                format!("{} answered {status}: {shown}", redact(url)),
            ));
        }
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| fetch_error(source, format!("reading {}: {e}", redact(url))))?;
        return crate::rules::formats::strict_json(&String::from_utf8_lossy(&bytes))
            .map(|page| (page, headers))
            .map_err(|e| fetch_error(source, format!("{} is not JSON: {e}", redact(url))));
    }
}

async fn authorize(
    request: reqwest::RequestBuilder,
    client: &reqwest::Client,
    tokens: &Tokens,
    source: &HttpSource<'_>,
) -> std::result::Result<reqwest::RequestBuilder, String> {
    let read = |secret: &super::definition::Secret| {
        secret
            .read()
            .map_err(|e| fetch_error(source, format!("the source's credentials: {e}")))
    };
    Ok(match &source.http.auth {
        None => request,
        Some(Auth::Bearer { token }) => request.bearer_auth(read(token)?),
        Some(Auth::Basic { user, password }) => {
            request.basic_auth(read(user)?, Some(read(password)?))
        }
        Some(Auth::Header { name, value }) => request.header(name, read(value)?),
        Some(Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            scope,
        }) => {
            let token = tokens
                .get(
                    client,
                    source.name,
                    source.http.timeout,
                    token_url,
                    &read(client_id)?,
                    &read(client_secret)?,
                    scope.as_deref(),
                )
                .await
                .map_err(|e| fetch_error(source, e))?;
            request.bearer_auth(token)
        }
    })
}

/// OAuth 2.0 access tokens by source, each with the moment it stops being used: a
/// minute (or a tenth of its life, when shorter) before it expires.
#[derive(Debug, Default)]
pub(crate) struct Tokens(tokio::sync::Mutex<std::collections::HashMap<String, (String, Instant)>>);

impl Tokens {
    /// The token of `name` (a source or an outbound target), from the cache or from
    /// `token_url` (client credentials in HTTP basic authentication, as RFC 6749
    /// §2.3.1 recommends).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn get(
        &self,
        client: &reqwest::Client,
        name: &str,
        timeout: Duration,
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: Option<&str>,
    ) -> std::result::Result<String, String> {
        let mut cache = self.0.lock().await;
        if let Some((token, until)) = cache.get(name)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = client
            .post(token_url)
            .basic_auth(client_id, Some(client_secret))
            .form(&form)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("the token request: {e}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let shown: String = text.chars().take(200).collect();
            return Err(format!("the token endpoint answered {status}: {shown}"));
        }
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| format!("the token answer is not JSON: {e}"))?;
        let Some(token) = answer["access_token"].as_str().filter(|t| !t.is_empty()) else {
            return Err("the token answer has no `access_token`".into());
        };
        // Without `expires_in` the token is used until the partner refuses it.
        let life = answer["expires_in"]
            .as_u64()
            .map_or(Duration::from_secs(24 * 3600), Duration::from_secs);
        let until = Instant::now() + life - (life / 10).min(Duration::from_secs(60));
        cache.insert(name.to_string(), (token.to_string(), until));
        Ok(token.to_string())
    }

    /// Drops the token of `name`, so that the next request asks for a new one.
    pub(crate) async fn forget(&self, name: &str) {
        self.0.lock().await.remove(name);
    }
}

/// `Retry-After` in seconds (an HTTP date is not honoured: the default backoff is).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    value
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A URL without its query string's values, for messages (they may carry tokens).
fn redact(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

fn fetch_error(source: &HttpSource<'_>, detail: String) -> String {
    format!("source `{}`: {detail}", source.name)
}

fn select<'a>(path: &JsonPathExpr, value: &'a Value) -> Vec<&'a Value> {
    path.select(&PathScope::root(value))
}

/// A cursor value as text.
fn as_cursor(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether cursor `a` is past `b`: as numbers when both are, else as text (ISO 8601
/// times in one format order as text).
fn later(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => a > b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::definition::load_sources;

    fn next_of(next: &str) -> Vec<String> {
        let text = format!(
            "[[source]]\nname = \"s\"\nbusiness = \"b\"\nkind = \"http\"\nevery = \"1h\"\nurl = \"https://api.example/v1/items?depot=7\"\nitems = \"$.items[*]\"\nnext = {next}\n"
        );
        let defs = load_sources(&[("s.toml".into(), text)]).unwrap();
        let source = defs.sources[0].as_http().unwrap();
        let first = reqwest::Url::parse("https://api.example/v1/items?depot=7").unwrap();
        let page = serde_json::json!({"items": [1, 2, 3], "next": "/v1/items?depot=7&after=x"});
        let mut url = first.clone();
        let mut seen = Vec::new();
        for _ in 0..2 {
            url = next_url(&source, &first, &url, &page, 3).unwrap().unwrap();
            seen.push(url.to_string());
        }
        seen
    }

    #[test]
    fn the_next_page_is_a_link_a_token_a_page_number_or_an_offset() {
        assert_eq!(
            next_of("{ page = \"page\" }"),
            [
                "https://api.example/v1/items?depot=7&page=2",
                "https://api.example/v1/items?depot=7&page=3"
            ]
        );
        assert_eq!(
            next_of("{ page = \"p\", first = 0 }")[0],
            "https://api.example/v1/items?depot=7&p=1"
        );
        assert_eq!(
            next_of("{ offset = \"offset\" }"),
            [
                "https://api.example/v1/items?depot=7&offset=3",
                "https://api.example/v1/items?depot=7&offset=6"
            ]
        );
        assert_eq!(
            next_of("{ link = \"$.next\" }")[0],
            "https://api.example/v1/items?depot=7&after=x"
        );
        assert_eq!(
            next_of("{ param = \"token\", from = \"$.next\" }")[0],
            "https://api.example/v1/items?depot=7&token=%2Fv1%2Fitems%3Fdepot%3D7%26after%3Dx"
        );
    }

    #[test]
    fn a_cursor_is_the_highest_item_field_or_the_response_header() {
        let text = |cursor: &str| {
            format!(
                "[[source]]\nname = \"s\"\nbusiness = \"b\"\nkind = \"http\"\nevery = \"1h\"\nurl = \"https://api.example/v1/items?since={{cursor}}\"\nitems = \"$.items[*]\"\ncursor = {cursor}\n"
            )
        };
        let items = [
            serde_json::json!({"at": "2026-12-05T10:00:00Z"}),
            serde_json::json!({"at": "2026-12-05T11:00:00Z"}),
            serde_json::json!({"at": "2026-12-05T09:00:00Z"}),
        ];
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-next-since", "opaque-42".parse().unwrap());
        let by_field = load_sources(&[("s.toml".into(), text("{ field = \"$.at\" }"))]).unwrap();
        let source = by_field.sources[0].as_http().unwrap();
        assert_eq!(
            high_water(
                &source,
                &items,
                Some(&headers),
                Some("2026-12-05T10:30:00Z".into())
            )
            .as_deref(),
            Some("2026-12-05T11:00:00Z")
        );
        let by_header =
            load_sources(&[("s.toml".into(), text("{ header = \"X-Next-Since\" }"))]).unwrap();
        let source = by_header.sources[0].as_http().unwrap();
        assert_eq!(
            high_water(&source, &items, Some(&headers), Some("before".into())).as_deref(),
            Some("opaque-42")
        );
        assert_eq!(
            high_water(&source, &items, None, Some("before".into())).as_deref(),
            Some("before"),
            "no header: the cursor stays"
        );
        let neither = load_sources(&[("s.toml".into(), text("{ initial = \"0\" }"))]);
        assert_eq!(neither.unwrap_err()[0].key.as_deref(), Some("cursor"));
    }

    #[test]
    fn cursors_compare_as_numbers_or_as_text() {
        assert!(super::later("10", "9"));
        assert!(!super::later("9", "10"));
        assert!(super::later("2026-12-05T10:00:00Z", "2026-12-05T09:59:59Z"));
        assert!(!super::later("a", "a"));
    }
}
