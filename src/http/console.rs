//! The operator's console at `/console` and the GraphiQL page's assets under
//! `/graphiql/`: static files compiled into the binary, so both work without
//! internet access. The console is plain HTML, CSS and a JavaScript module with no
//! dependencies and no build step: the files in `src/http/assets/console` are what
//! browsers get. It signs in with an API key, which it keeps in the tab's session
//! storage and sends as a bearer token to the same REST API everyone uses, so it
//! shows exactly what that key may see. GraphiQL's files are the pinned npm
//! packages' own (`tools/graphiql/vendor.sh`).

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::Error;

/// One embedded file.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($dir:literal, $name:literal, $media:literal) => {
        Asset {
            name: $name,
            media_type: $media,
            bytes: include_bytes!(concat!("assets/", $dir, "/", $name)),
        }
    };
}

const CONSOLE: &[Asset] = &[
    asset!("console", "index.html", "text/html; charset=utf-8"),
    asset!("console", "console.js", "text/javascript; charset=utf-8"),
    asset!("console", "console.css", "text/css; charset=utf-8"),
];

const GRAPHIQL: &[Asset] = &[
    asset!("graphiql", "index.html", "text/html; charset=utf-8"),
    asset!("graphiql", "init.js", "text/javascript; charset=utf-8"),
    asset!(
        "graphiql",
        "graphiql.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphiql", "graphiql.min.css", "text/css; charset=utf-8"),
    asset!(
        "graphiql",
        "react.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "graphiql",
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphiql", "LICENSE.graphiql", "text/plain; charset=utf-8"),
    asset!("graphiql", "LICENSE.react", "text/plain; charset=utf-8"),
];

/// Scripts and styles from the gateway only; the console calls nothing else.
const CONSOLE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// GraphiQL's editor sets inline styles and uses data: fonts; it talks to
/// `/graphql` and `/graphql/ws` on the same origin.
const GRAPHIQL_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/console`, `/console/{file}` and `/graphiql/{file}`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { serve(CONSOLE, "index.html", CONSOLE_POLICY) }),
        )
        .route(
            "/console/",
            get(|| async { serve(CONSOLE, "index.html", CONSOLE_POLICY) }),
        )
        .route(
            "/console/{file}",
            get(|Path(file): Path<String>| async move { serve(CONSOLE, &file, CONSOLE_POLICY) }),
        )
        .route(
            "/graphiql/{file}",
            get(|Path(file): Path<String>| async move { serve(GRAPHIQL, &file, GRAPHIQL_POLICY) }),
        )
}

/// The GraphiQL page `GET /graphql` gives a browser.
pub fn graphiql_page() -> Response {
    serve(GRAPHIQL, "index.html", GRAPHIQL_POLICY)
}

fn serve(assets: &[Asset], name: &str, policy: &'static str) -> Response {
    let Some(asset) = assets.iter().find(|a| a.name == name) else {
        return Error::NotFound {
            what: "file",
            id: name.chars().take(64).collect(),
        }
        .into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.media_type));
    // The files change with the binary: browsers revalidate, and get the new ones
    // after an upgrade.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    response
}
