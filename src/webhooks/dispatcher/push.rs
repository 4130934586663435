//! One push: sign the stored body, POST it, read what the receiver made of it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use crate::config::Config;
use crate::outbound::definition::{
    Email as OutboundEmail, Http as OutboundHttp, Kind, MailTls, Target as OutboundTarget,
    TargetAuth,
};
use crate::outbound::{Outbound, stored_request};
use crate::sources::definition::{Auth, Secret};
use crate::sources::fetch::Tokens;
use crate::sources::files::Dir;
use crate::store::dispatch::Payload;
use crate::store::entities::webhook_endpoint;
use crate::store::outbox::Rendered;
use crate::webhooks::signer::{WebhookSecret, signature_header};
use crate::webhooks::ssrf::{Guard, GuardedResolver};

use super::brokers;

/// Largest part of a receiver's answer kept in the attempt log.
const RESPONSE_LOG_BYTES: usize = 4096;

/// Where and how an endpoint's pushes go, prepared once per claim round.
pub(super) enum Target {
    /// A webhook endpoint: the signed envelope to its URL.
    Webhook {
        /// The URL, or why no push can go there.
        url: Result<reqwest::Url, String>,
        secrets: Vec<WebhookSecret>,
    },
    /// An outbound target's row.
    Outbound {
        name: String,
        /// Its definition, while the outbound files still declare it.
        definition: Option<Arc<OutboundTarget>>,
        business_id: i64,
    },
}

impl Target {
    pub(super) fn new(
        endpoint: &webhook_endpoint::Model,
        guard: &Guard,
        outbound: &Outbound,
    ) -> Self {
        if let Some(name) = &endpoint.outbound {
            return Self::Outbound {
                name: name.clone(),
                definition: outbound.target(name),
                business_id: endpoint.business_id,
            };
        }
        let mut secrets: Vec<WebhookSecret> =
            WebhookSecret::parse(&endpoint.secret).into_iter().collect();
        if endpoint
            .previous_secret_expires_at
            .is_some_and(|t| t > Utc::now())
            && let Some(old) = endpoint
                .previous_secret
                .as_deref()
                .and_then(|s| WebhookSecret::parse(s).ok())
        {
            secrets.push(old);
        }
        Self::Webhook {
            url: checked_url(&endpoint.url, guard),
            secrets,
        }
    }
}

/// Names resolve through the guarded resolver at send time; an IP literal never
/// reaches a resolver, so it is checked here.
fn checked_url(url: &str, guard: &Guard) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(url).map_err(|e| format!("invalid endpoint URL: {e}"))?;
    let literal = url
        .host_str()
        .and_then(|h| h.trim_matches(['[', ']']).parse().ok());
    if literal.is_some_and(|ip| !guard.permits(ip)) {
        return Err("the endpoint's address is private or reserved and not allowed".into());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    if !guard.permits_port(port) {
        return Err(format!(
            "the endpoint's port {port} is not allowed (setting webhooks_allow_ports)"
        ));
    }
    Ok(url)
}

/// What a receiver made of one push.
pub(super) struct Answer {
    pub status: Option<u16>,
    pub body: Option<String>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    /// Delivered: a 2xx, or one of an outbound target's `success` statuses.
    pub ok: bool,
    /// No later attempt can go better (the event cannot be rendered): dead-letter now.
    pub permanent: bool,
    /// The request an outbound mapping rendered at this attempt, to keep.
    pub rendered: Option<Rendered>,
    /// A partner's whole answer, when its mapping sends answers through the rules.
    pub reply: Option<ReplyBody>,
}

/// A partner's answer to keep, with what it answered.
pub(super) struct ReplyBody {
    pub business_id: i64,
    pub target: String,
    pub mapping: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub(super) fn failed(error: impl Into<String>) -> Self {
        Self {
            status: None,
            body: None,
            error: Some(error.into()),
            retry_after: None,
            ok: false,
            permanent: false,
            rendered: None,
            reply: None,
        }
    }

    /// Delivered without an HTTP status (a file written, a mail or a message taken),
    /// with what was done, for the attempt log.
    pub(super) fn done(what: String) -> Self {
        Self {
            body: Some(what),
            error: None,
            ok: true,
            ..Self::failed(String::new())
        }
    }

    pub(super) fn permanent(error: impl Into<String>) -> Self {
        Self {
            permanent: true,
            ..Self::failed(error)
        }
    }
}

/// The HTTP client for pushes: no redirects, guarded DNS, bounded timeouts. Proxy
/// variables in the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) are
/// ignored: a proxy resolves names itself, past the guarded resolver. A proxy is
/// used only when `webhooks_proxy` names one, and then each push's target is
/// resolved and checked here first ([`checked_for_proxy`]).
pub fn client(config: &Config, guard: Arc<Guard>) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder();
    let builder = match &config.webhooks_proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.as_str())?),
        None => builder.no_proxy(),
    };
    builder
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver(guard)))
        .connect_timeout(Duration::from_millis(config.webhooks_connect_timeout_ms))
        .timeout(Duration::from_millis(config.webhooks_timeout_ms))
        .user_agent(concat!("freightgate-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Through a proxy the guarded resolver is not asked: the target's addresses are
/// resolved and checked before the push instead.
pub(super) async fn checked_for_proxy(guard: &Guard, url: &reqwest::Url) -> Result<(), String> {
    guard.check_url(url.as_str()).await.map(|_| ())
}

/// Signs and POSTs `message` to `target`; the same body bytes on every attempt.
/// `proxied` holds the guard when pushes go through `webhooks_proxy`.
pub(super) async fn send(
    client: &reqwest::Client,
    target: &Target,
    message: &Payload,
    proxied: Option<&Guard>,
) -> Answer {
    let (url, secrets) = match target {
        Target::Webhook {
            url: Ok(url),
            secrets,
        } => (url.clone(), secrets),
        Target::Webhook { url: Err(why), .. } => return Answer::failed(why.clone()),
        Target::Outbound { .. } => return Answer::permanent("an outbound target's row"),
    };
    if let Some(guard) = proxied
        && let Err(why) = checked_for_proxy(guard, &url).await
    {
        return Answer::failed(why);
    }
    let timestamp = Utc::now().timestamp();
    let signature = signature_header(
        secrets,
        &message.webhook_id,
        timestamp,
        message.body.as_bytes(),
    );
    let request = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("webhook-id", &message.webhook_id)
        .header("webhook-timestamp", timestamp)
        .header("webhook-signature", signature)
        .body(message.body.clone());
    match request.send().await {
        Ok(response) => read_answer(response).await,
        Err(e) => Answer::failed(describe(&e)),
    }
}

/// The answer, with up to [`RESPONSE_LOG_BYTES`] of its body for the log (the rest
/// is not read).
async fn read_answer(response: reqwest::Response) -> Answer {
    read_response(response, RESPONSE_LOG_BYTES, false).await.0
}

/// The whole answer, up to `limit` bytes (`None` beyond), and the logged part.
async fn read_reply(
    response: reqwest::Response,
    limit: usize,
) -> (Answer, Option<(Option<String>, Vec<u8>)>) {
    let (answer, content_type, body) = read_response(response, limit, true).await;
    let taken = answer.error.is_none().then_some((content_type, body));
    (answer, taken)
}

/// The answer's status and body: up to `limit` bytes, the rest unread; with
/// `whole`, a body larger than `limit` (or one that breaks off) is the answer's
/// error instead. The log keeps the first [`RESPONSE_LOG_BYTES`].
async fn read_response(
    mut response: reqwest::Response,
    limit: usize,
    whole: bool,
) -> (Answer, Option<String>, Vec<u8>) {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    let mut error = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > limit => {
                if whole {
                    error = Some(format!(
                        "the partner's answer is larger than max_body_bytes ({limit}): it was not taken"
                    ));
                } else {
                    body.extend_from_slice(&chunk[..limit - body.len()]);
                }
                break;
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) if whole => {
                error = Some(format!("reading the partner's answer: {e}"));
                break;
            }
            Err(_) => break,
        }
    }
    let logged = String::from_utf8_lossy(&body[..body.len().min(RESPONSE_LOG_BYTES)]).into_owned();
    let answer = Answer {
        status: Some(status),
        body: Some(logged),
        error,
        retry_after,
        ok: (200..300).contains(&status),
        permanent: false,
        rendered: None,
        reply: None,
    };
    (answer, content_type, body)
}

/// What an outbound push needs besides its target.
pub(super) struct OutboundPush<'a> {
    pub client: &'a reqwest::Client,
    pub guard: &'a Guard,
    pub proxied: bool,
    pub tokens: &'a Tokens,
    pub timeout: Duration,
    /// The largest partner answer taken through the rules.
    pub reply_limit: usize,
    pub secrets: &'a SecretCache,
    pub brokers: &'a brokers::Brokers,
}

/// How long a secret read from a file is used before the file is read again: a
/// rotated secret is picked up within this, without a file read per push.
const SECRET_FILE_TTL: Duration = Duration::from_secs(1);

/// Secrets of outbound targets as last read from their files (environment
/// variables are read each time: that is cheap).
#[derive(Default)]
pub(crate) struct SecretCache(
    std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, (String, std::time::Instant)>>,
);

impl SecretCache {
    pub(crate) fn read(&self, secret: &Secret) -> Result<String, String> {
        let Secret::File(path) = secret else {
            return secret.read();
        };
        let now = std::time::Instant::now();
        if let Some((value, at)) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(path)
            && now.duration_since(*at) < SECRET_FILE_TTL
        {
            return Ok(value.clone());
        }
        let value = secret.read()?;
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.clone(), (value.clone(), now));
        Ok(value)
    }
}

impl Target {
    /// True for an outbound target's row.
    pub(super) fn is_outbound(&self) -> bool {
        matches!(self, Target::Outbound { .. })
    }
}

/// Sends an outbound delivery: its stored request, or (when it has none yet, or was
/// replayed after its mapping could not render it) the one its mapping renders now.
pub(super) async fn send_outbound(
    push: &OutboundPush<'_>,
    target: &Target,
    stored: Option<&Rendered>,
    message: &Payload,
) -> Answer {
    let Target::Outbound {
        name,
        definition,
        business_id,
    } = target
    else {
        return Answer::permanent("not an outbound target");
    };
    let Some(definition) = definition else {
        return Answer::failed(format!(
            "outbound target `{name}` is no longer declared in the outbound files"
        ));
    };
    let (rendered, fresh) = match stored {
        Some(r) => (r.clone(), false),
        None => {
            let envelope: serde_json::Value = match serde_json::from_str(&message.body) {
                Ok(v) => v,
                Err(e) => return Answer::permanent(format!("the stored event is not JSON: {e}")),
            };
            match Outbound::render_for(definition, &envelope) {
                Some(Ok(r)) => (r, true),
                Some(Err(why)) => return Answer::permanent(why),
                None => {
                    return Answer::permanent(format!(
                        "no mapping of outbound target `{name}` takes this event any more"
                    ));
                }
            }
        }
    };
    let mut answer = push_rendered(push, name, *business_id, definition, &rendered, message).await;
    if fresh {
        answer.rendered = Some(rendered);
    }
    answer
}

async fn push_rendered(
    push: &OutboundPush<'_>,
    name: &str,
    business_id: i64,
    definition: &OutboundTarget,
    rendered: &Rendered,
    message: &Payload,
) -> Answer {
    let Some(request) = stored_request(&rendered.request) else {
        return Answer::permanent("the delivery's stored request cannot be read");
    };
    let http = match &definition.kind {
        Kind::Http(http) => http,
        Kind::Folder(_) | Kind::Sftp(_) => {
            return write_file(name, &definition.kind, request.file.as_deref(), rendered).await;
        }
        Kind::Email(mail) => {
            return send_mail(name, mail, &request, rendered, message, push.secrets).await;
        }
        Kind::Nats(nats) => {
            return brokers::publish_nats(push, name, nats, &request, rendered, message).await;
        }
        Kind::Amqp(amqp) => {
            return brokers::publish_amqp(push, name, amqp, &request, rendered, message).await;
        }
    };
    let url = match checked_url(&request.url, push.guard) {
        Ok(url) => url,
        Err(why) => return Answer::failed(why),
    };
    if push.proxied
        && let Err(why) = checked_for_proxy(push.guard, &url).await
    {
        return Answer::failed(why);
    }
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut builder = push.client.request(method, url);
    for (header, value) in &request.headers {
        builder = builder.header(header.as_str(), value.as_str());
    }
    let builder = match authorize(push, name, http, builder, rendered, message).await {
        Ok(b) => b,
        Err(why) => return Answer::failed(why),
    };
    let mut answer = match builder.body(rendered.body.clone()).send().await {
        Ok(response) if request.reply => {
            let (mut answer, whole) = read_reply(response, push.reply_limit).await;
            answer.reply = whole.map(|(content_type, bytes)| ReplyBody {
                business_id,
                target: name.to_string(),
                mapping: request.mapping.clone(),
                content_type,
                bytes,
            });
            answer
        }
        Ok(response) => read_answer(response).await,
        Err(e) => Answer::failed(describe(&e)),
    };
    if let (Some(codes), Some(status)) = (&http.success, answer.status) {
        answer.ok = codes.contains(&status);
    }
    if !answer.ok {
        answer.reply = None;
    }
    if answer.status == Some(401)
        && matches!(
            http.auth,
            Some(TargetAuth::Credentials(Auth::OAuth2 { .. }))
        )
    {
        // The next attempt asks for a new token.
        push.tokens.forget(name).await;
    }
    answer
}

/// Writes a file target's file; a file written counts as delivered.
async fn write_file(name: &str, kind: &Kind, file: Option<&str>, rendered: &Rendered) -> Answer {
    let Some(file) = file else {
        return Answer::permanent(format!(
            "the delivery to outbound target `{name}` names no file (its target was an http target when it was rendered)"
        ));
    };
    let dir = match kind {
        Kind::Folder(path) => Ok(Dir::Local(std::path::PathBuf::from(path))),
        Kind::Sftp(sftp) => Dir::sftp(sftp).await,
        Kind::Http(_) | Kind::Email(_) | Kind::Nats(_) | Kind::Amqp(_) => Err(format!(
            "outbound target `{name}` is of another kind now: the delivery was a file to write"
        )),
    };
    let written = match dir {
        Ok(dir) => dir.put(file, rendered.body.as_bytes()).await,
        Err(why) => Err(why),
    };
    match written {
        Ok(()) => Answer::done(format!("wrote {file} ({} bytes)", rendered.body.len())),
        Err(why) => Answer::failed(format!("outbound target `{name}`: {why}")),
    }
}

/// Mails a file target's file as an attachment; a mail the server accepted counts
/// as delivered.
async fn send_mail(
    name: &str,
    mail: &OutboundEmail,
    request: &crate::outbound::Request,
    rendered: &Rendered,
    message: &Payload,
    secrets: &SecretCache,
) -> Answer {
    use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let header = |wanted: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == wanted)
            .map(|(_, v)| v.clone())
    };
    let file = request.file.clone().unwrap_or_else(|| "event.txt".into());
    let built = (|| {
        let content_type = ContentType::parse(
            &header("content-type").unwrap_or_else(|| "application/octet-stream".into()),
        )
        .map_err(|e| e.to_string())?;
        let mut builder = lettre::Message::builder()
            .from(mail.from.parse::<Mailbox>().map_err(|e| e.to_string())?)
            .subject(header("subject").unwrap_or_default())
            .message_id(Some(format!("<{}@freightgate>", message.webhook_id)));
        for to in &mail.to {
            builder = builder.to(to.parse::<Mailbox>().map_err(|e| e.to_string())?);
        }
        builder
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(format!(
                        "{file} is attached ({} bytes), sent by freightgate for event {}.\n",
                        rendered.body.len(),
                        message.webhook_id
                    )))
                    .singlepart(
                        Attachment::new(file.clone()).body(rendered.body.clone(), content_type),
                    ),
            )
            .map_err(|e| e.to_string())
    })();
    let email = match built {
        Ok(email) => email,
        Err(why) => return Answer::permanent(format!("outbound target `{name}`: the mail: {why}")),
    };
    let builder = match mail.tls {
        MailTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&mail.host),
        MailTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&mail.host),
        MailTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &mail.host,
        )),
    };
    let mut builder = match builder {
        Ok(b) => b.port(mail.port).timeout(Some(mail.timeout)),
        Err(e) => return Answer::failed(format!("outbound target `{name}`: {e}")),
    };
    if let Some((user, password)) = &mail.login {
        match (secrets.read(user), secrets.read(password)) {
            (Ok(user), Ok(password)) => {
                builder = builder.credentials(Credentials::new(user, password));
            }
            (Err(e), _) | (_, Err(e)) => {
                return Answer::failed(format!("outbound target `{name}`'s credentials: {e}"));
            }
        }
    }
    match builder.build().send(email).await {
        Ok(response) => Answer {
            status: Some(response.code().into()),
            ..Answer::done(format!(
                "mailed {file} to {}: {}",
                mail.to.join(", "),
                response.message().collect::<Vec<_>>().join(" ")
            ))
        },
        Err(e) => Answer::failed(format!("outbound target `{name}`: mailing {file}: {e}")),
    }
}

async fn authorize(
    push: &OutboundPush<'_>,
    name: &str,
    http: &OutboundHttp,
    builder: reqwest::RequestBuilder,
    rendered: &Rendered,
    message: &Payload,
) -> Result<reqwest::RequestBuilder, String> {
    let read = |secret: &Secret| {
        push.secrets
            .read(secret)
            .map_err(|e| format!("outbound target `{name}`'s credentials: {e}"))
    };
    Ok(match &http.auth {
        None => builder,
        Some(TargetAuth::Credentials(Auth::Bearer { token })) => builder.bearer_auth(read(token)?),
        Some(TargetAuth::Credentials(Auth::Basic { user, password })) => {
            builder.basic_auth(read(user)?, Some(read(password)?))
        }
        Some(TargetAuth::Credentials(Auth::Header {
            name: header,
            value,
        })) => builder.header(header.as_str(), read(value)?),
        Some(TargetAuth::Credentials(Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            scope,
        })) => {
            let token = push
                .tokens
                .get(
                    push.client,
                    name,
                    push.timeout,
                    token_url,
                    &read(client_id)?,
                    &read(client_secret)?,
                    scope.as_deref(),
                )
                .await
                .map_err(|e| format!("outbound target `{name}`: {e}"))?;
            builder.bearer_auth(token)
        }
        Some(TargetAuth::StandardWebhooks(secret)) => {
            let secret = WebhookSecret::parse(&read(secret)?)
                .map_err(|e| format!("outbound target `{name}`'s signing secret: {e}"))?;
            let timestamp = Utc::now().timestamp();
            let signature = signature_header(
                std::slice::from_ref(&secret),
                &message.webhook_id,
                timestamp,
                rendered.body.as_bytes(),
            );
            builder
                .header("webhook-id", &message.webhook_id)
                .header("webhook-timestamp", timestamp)
                .header("webhook-signature", signature)
        }
    })
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            (at.with_timezone(&Utc) - Utc::now())
                .to_std()
                .unwrap_or_default()
        }
    };
    Some(wait.min(Duration::from_secs(24 * 3600)))
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
