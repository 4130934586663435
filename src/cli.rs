//! The `freightgate` command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::domain::{KeyRole, MasterCode, Scope, Slug};
use crate::rules;
use crate::store;

/// freightgate: a logistics integration gateway.
#[derive(Debug, Parser)]
#[command(name = "freightgate", version, about)]
pub struct Cli {
    /// Configuration file (default: ./freightgate.toml when it exists).
    #[arg(long, global = true, env = "FREIGHTGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (runs pending migrations first unless auto_migrate is false).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check rules files and run their fixtures.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Check pull-source files.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Check outbound files and try their mappings on an event.
    #[command(subcommand)]
    Outbound(OutboundCommand),
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    Schema,
    /// Print the REST API's OpenAPI document, as committed in openapi.json.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load and compile the rules; print every problem; fail on any error.
    Check {
        /// Rules directory (default: the configured `rules_dir`).
        dir: Option<PathBuf>,
    },
    /// Run the fixtures in DIR/tests against the rules; fail on any failing fixture.
    Test {
        /// Rules directory (default: the configured `rules_dir`).
        dir: Option<PathBuf>,
    },
    /// List the rules per business, in the order they are tried.
    List {
        /// Rules directory (default: the configured `rules_dir`).
        dir: Option<PathBuf>,
        /// Only the rules that apply to this business (its own and those for every
        /// business).
        #[arg(long)]
        business: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Load the sources; print each one, every problem, and credentials that cannot
    /// be read here; fail on any error.
    Check {
        /// Sources directory (default: the configured `sources_dir`).
        dir: Option<PathBuf>,
    },
    /// Read a recorded page of a source's API offline: the items it holds, the rule,
    /// operation and entity each becomes (with the configured rules), the cursor and
    /// the next page; fail when an item matches no rule or is refused.
    Test {
        /// The source's name.
        name: String,
        /// A page of the API, as JSON.
        page: PathBuf,
        /// Sources directory (default: the configured `sources_dir`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboundCommand {
    /// Load the outbound files; print each target, every problem, and credentials
    /// that cannot be read here; fail on any error.
    Check {
        /// Outbound directory (default: the configured `outbound_dir`).
        dir: Option<PathBuf>,
    },
    /// Show which mappings take an event (a webhook body: `type`, `timestamp`,
    /// `data`) and what each would send, without sending; with `--expect`, fail
    /// unless the one request sent has that body (JSON compared as JSON, other
    /// bodies byte for byte).
    Test {
        /// The event, as JSON.
        event: PathBuf,
        /// The body the event must render to (JSON, or any other text byte for byte).
        #[arg(long)]
        expect: Option<PathBuf>,
        /// Only this target's mappings.
        #[arg(long)]
        target: Option<String>,
        /// Outbound directory (default: the configured `outbound_dir`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the key is printed alone on the last line of stdout.
    Create {
        /// Business slug; a business that does not exist is created, unless its
        /// slug is one or two letters away from one that does (a typo?).
        #[arg(long)]
        business: String,
        /// Create the business even though its slug is close to an existing one's.
        #[arg(long)]
        new_business: bool,
        /// Comma-separated scopes: ingest, read, write, webhooks, admin.
        #[arg(long, default_value = "ingest,read,write,webhooks")]
        scopes: String,
        /// A label to recognise the key by in `keys list`.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Requests per second this key may make (bursts of as many), instead of
        /// the configured `rate_limit_per_sec`.
        #[arg(long, value_name = "PER_SEC", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        rate_limit: Option<u32>,
        /// Whom the key acts for: `tenant` (the business itself: everything of the
        /// business), `customer` (one customer, named by --party: only its own
        /// orders and their shipments) or `subcontractor` (one subcontractor, named
        /// by --party: only the shipments assigned to it, and their stops).
        #[arg(long, default_value = "tenant", value_parser = ["tenant", "customer", "subcontractor"])]
        role: String,
        /// The code of the party a `customer` or `subcontractor` key acts for.
        #[arg(long, value_name = "CODE")]
        party: Option<String>,
    },
    /// List keys (never their secret part).
    List,
    /// Revoke a key by id; requests with it fail with 401 from then on.
    Revoke {
        /// The key's id as shown by `keys list`.
        id: i64,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::Keys(command) => keys(&config, command).await,
        Command::Rules(RulesCommand::Check { dir }) => rules_check(&config, dir),
        Command::Rules(RulesCommand::Test { dir }) => rules_test(&config, dir),
        Command::Rules(RulesCommand::List { dir, business }) => {
            rules_list(&config, dir, business.as_deref())
        }
        Command::Sources(SourcesCommand::Check { dir }) => sources_check(&config, dir),
        Command::Outbound(OutboundCommand::Check { dir }) => outbound_check(&config, dir),
        Command::Outbound(OutboundCommand::Test {
            event,
            expect,
            target,
            dir,
        }) => outbound_test(&config, &event, expect.as_deref(), target.as_deref(), dir),
        Command::Sources(SourcesCommand::Test { name, page, dir }) => {
            sources_test(&config, &name, &page, dir)
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::http::openapi::json());
            Ok(())
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<store::Db> {
    let db = store::connect(config).await.with_context(|| {
        format!(
            "cannot open the database at {}",
            crate::redact(&config.database_url)
        )
    })?;
    store::migrate(&db)
        .await
        .context("cannot apply database migrations")?;
    Ok(db)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set FREIGHTGATE_LISTEN or `listen` to another address)",
                config.listen
            )
        })?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    crate::run(config, listener, shutdown).await
}

async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    token.cancel();
}

/// A business whose slug is one or two edits from `slug` (a typo, most likely),
/// the closest first: one in the database, or one the loaded rules are written for
/// (so a typo is caught on an empty database too).
async fn closest_business(
    db: &store::Db,
    config: &Config,
    slug: &Slug,
) -> anyhow::Result<Option<String>> {
    let wanted = slug.as_str().to_ascii_lowercase();
    let mut known = store::tenancy::business_slugs(db).await?;
    // Rules that do not load name no business; `rules check` reports why.
    if let Ok((rules, _)) = crate::rules::load_dir(&config.rules_dir) {
        known.extend(
            rules
                .rules()
                .iter()
                .filter_map(|rule| rule.business().map(str::to_owned)),
        );
    }
    let close = known
        .into_iter()
        .map(|existing| {
            let distance = strsim::damerau_levenshtein(&wanted, &existing.to_ascii_lowercase());
            (distance, existing)
        })
        .filter(|(distance, existing)| {
            (1..=2).contains(distance) && *distance < existing.len() / 2 + 1
        })
        .min();
    Ok(close.map(|(_, existing)| existing))
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = store::connect(config).await.with_context(|| {
        format!(
            "cannot open the database at {}",
            crate::redact(&config.database_url)
        )
    })?;
    let applied = store::migrate(&db)
        .await
        .context("cannot apply database migrations")?;
    println!("Applied {applied} migration(s); the database is up to date.");
    Ok(())
}

async fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    match command {
        KeysCommand::Create {
            business,
            new_business,
            scopes,
            name,
            rate_limit,
            role,
            party,
        } => {
            let role = match (role.as_str(), party) {
                ("tenant", None) => KeyRole::Tenant,
                ("tenant", Some(_)) => {
                    anyhow::bail!("--party goes with --role customer or --role subcontractor")
                }
                (role, None) => {
                    anyhow::bail!("--role {role} needs --party CODE: the {role} the key acts for")
                }
                (role, Some(code)) => {
                    let code = MasterCode::parse(&code)
                        .map_err(|e| anyhow::anyhow!("--party: {e}"))?
                        .to_string();
                    if role == "subcontractor" {
                        KeyRole::Subcontractor(code)
                    } else {
                        KeyRole::Customer(code)
                    }
                }
            };
            let slug = Slug::parse(&business).map_err(|e| anyhow::anyhow!("--business: {e}"))?;
            if !new_business
                && store::tenancy::find_business(&db, &slug).await?.is_none()
                && let Some(close) = closest_business(&db, config, &slug).await?
            {
                anyhow::bail!(
                    "--business: there is no business `{slug}`; did you mean `{close}`? \
                     To create a new business `{slug}`, add --new-business"
                );
            }
            let scopes =
                Scope::parse_list(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            if scopes.is_empty() {
                anyhow::bail!("--scopes: name at least one scope");
            }
            let txn = store::gate::WriteGate::for_db(&db).begin(&db).await?;
            let created =
                store::keys::create_with_role(&txn, &slug, &name, &scopes, rate_limit, &role)
                    .await?;
            txn.commit().await?;
            let limit = match rate_limit {
                Some(n) => format!("{n} requests/s"),
                None => "the default rate limit".into(),
            };
            let acting = match role.party() {
                Some(code) => format!(", acting for {} `{code}` only", role.name()),
                None => String::new(),
            };
            println!(
                "Created API key {} for business `{}` with scopes {} and {limit}{acting}.",
                created.key.id, created.business.slug, created.key.scopes
            );
            println!("It is shown only this once; store it now.");
            println!("{}", created.plaintext);
        }
        KeysCommand::List => {
            let keys = store::keys::list(&db).await?;
            println!(
                "{:<6} {:<20} {:<14} {:<12} {:<32} {:<25} {:<10} {:<8} role",
                "id", "business", "prefix", "name", "scopes", "created", "rate/s", "status"
            );
            for (key, business) in keys {
                let status = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let rate = key
                    .rate_limit_per_sec
                    .map_or_else(|| "default".to_string(), |n| n.to_string());
                let role = KeyRole::from_stored(key.role.as_deref(), key.party.as_deref());
                let role = match role.party() {
                    Some(code) => format!("{} {code}", role.name()),
                    None => role.name().to_string(),
                };
                println!(
                    "{:<6} {:<20} {:<14} {:<12} {:<32} {:<25} {:<10} {status:<8} {role}",
                    key.id,
                    business,
                    format!("{}…", key.prefix),
                    key.name,
                    key.scopes,
                    key.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    rate
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let txn = store::gate::WriteGate::for_db(&db).begin(&db).await?;
            let key = store::keys::revoke(&txn, id).await?;
            txn.commit().await?;
            println!("Revoked API key {} ({}…).", key.id, key.prefix);
        }
    }
    db.close().await.ok();
    Ok(())
}

fn load_rules_verbosely(config: &Config, dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = dir.unwrap_or_else(|| config.rules_dir.clone());
    let options = rules::LoadOptions {
        max_document_bytes: config.max_document_bytes,
    };
    match rules::load_dir_with(&dir, &options) {
        Ok((_, report)) => {
            println!("{}: {report}", dir.display());
            Ok(dir)
        }
        Err(report) => {
            println!("{}: {report}", dir.display());
            anyhow::bail!(
                "{} error(s) in the rules in {}",
                report.errors.len(),
                dir.display()
            )
        }
    }
}

fn rules_check(config: &Config, dir: Option<PathBuf>) -> anyhow::Result<()> {
    load_rules_verbosely(config, dir).map(|_| ())
}

/// `sources test`: what a recorded page of a source would become, without fetching
/// or writing anything.
fn sources_test(
    config: &Config,
    name: &str,
    page: &std::path::Path,
    dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| config.sources_dir.clone());
    let registry = crate::sources::Registry::load(&dir).map_err(|problems| {
        anyhow::anyhow!(
            "the sources in {} have {} error(s); `freightgate sources check` lists them",
            dir.display(),
            problems.len()
        )
    })?;
    let (business, report) = registry.test_page(name, page).map_err(anyhow::Error::msg)?;
    let options = rules::LoadOptions {
        max_document_bytes: config.max_document_bytes,
    };
    let (set, _) = rules::load_dir_with(&config.rules_dir, &options).map_err(|report| {
        anyhow::anyhow!(
            "{}: {report}\nthe rules do not load; `freightgate rules check` says why",
            config.rules_dir.display()
        )
    })?;
    println!(
        "{}: {} item(s) at {}",
        page.display(),
        report.items.len(),
        report.items_path
    );
    let mut failed = 0;
    for (n, item) in report.items.iter().enumerate() {
        let outcome = set.process(&business, item);
        let Some(rule) = &outcome.rule else {
            failed += 1;
            println!("item {}: no rule of business `{business}` matches", n + 1);
            continue;
        };
        let errors: Vec<String> = outcome
            .items
            .iter()
            .flat_map(|i| i.findings.iter())
            .filter(|f| f.severity == rules::Severity::Error)
            .map(|f| format!("{} at {}: {}", f.code, f.path, f.detail))
            .collect();
        if errors.is_empty() {
            println!(
                "item {}: rule `{}`: {} {}",
                n + 1,
                rule.name,
                rule.operation.as_str(),
                rule.entity.as_str()
            );
        } else {
            failed += 1;
            println!(
                "item {}: rule `{}`: {} {}, refused: {}",
                n + 1,
                rule.name,
                rule.operation.as_str(),
                rule.entity.as_str(),
                errors.join("; ")
            );
        }
    }
    println!(
        "cursor after this page: {}",
        report.cursor.as_deref().unwrap_or("(none)")
    );
    println!(
        "next page: {}",
        report
            .next
            .as_deref()
            .unwrap_or("(none: the run ends here)")
    );
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} item(s) would be refused",
            report.items.len()
        );
    }
    Ok(())
}

fn load_outbound_dir(dir: &std::path::Path) -> anyhow::Result<crate::outbound::Outbound> {
    crate::outbound::Outbound::load(dir).map_err(|problems| {
        for problem in &problems {
            println!("error: {problem}");
        }
        anyhow::anyhow!(
            "{} error(s) in the outbound files in {}",
            problems.len(),
            dir.display()
        )
    })
}

/// `outbound check`: each target on a line, every problem on one, and a warning for
/// credentials this environment cannot read.
fn outbound_check(config: &Config, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| config.outbound_dir.clone());
    if !dir.is_dir() {
        println!("{}: no such directory: no outbound targets", dir.display());
        return Ok(());
    }
    let outbound = load_outbound_dir(&dir)?;
    for line in outbound.summaries() {
        println!("{line}");
    }
    let warnings = outbound.credential_warnings();
    for warning in &warnings {
        println!("warning: {warning}");
    }
    println!(
        "{}: {} target(s) from {} file(s), 0 error(s), {} warning(s)",
        dir.display(),
        outbound.len(),
        outbound.files().len(),
        warnings.len()
    );
    Ok(())
}

/// `outbound test`: what every mapping of the event's business makes of it.
fn outbound_test(
    config: &Config,
    event: &std::path::Path,
    expect: Option<&std::path::Path>,
    target: Option<&str>,
    dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| config.outbound_dir.clone());
    let outbound = load_outbound_dir(&dir)?;
    let read_json = |path: &std::path::Path| -> anyhow::Result<serde_json::Value> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
    };
    let envelope = read_json(event)?;
    if envelope["type"].as_str().is_none() || !envelope["data"].is_object() {
        anyhow::bail!(
            "{} is not an event: give a webhook body with `type` and `data` (as `GET /v1/webhooks/event-types` shows)",
            event.display()
        );
    }
    let mut explained = outbound.explain(&envelope);
    if let Some(target) = target {
        explained.retain(|e| e.target == target);
        if explained.is_empty() {
            anyhow::bail!(
                "no outbound target `{target}` of business `{}` in {}",
                envelope["data"]["business"].as_str().unwrap_or("?"),
                dir.display()
            );
        }
    }
    if explained.is_empty() {
        println!(
            "no outbound target of business `{}` in {}",
            envelope["data"]["business"].as_str().unwrap_or("?"),
            dir.display()
        );
    }
    let mut sent = Vec::new();
    let mut failures = 0;
    for e in &explained {
        match (e.fires, &e.body) {
            (true, Some(body)) => {
                match &e.file {
                    Some(file) => println!("{} / {}: writes {file}", e.target, e.mapping),
                    None => println!(
                        "{} / {}: sends {} {}",
                        e.target,
                        e.mapping,
                        e.method.as_deref().unwrap_or("?"),
                        e.url.as_deref().unwrap_or("?")
                    ),
                }
                for header in &e.headers {
                    println!("  {}: {}", header.name, header.value);
                }
                for line in body.lines() {
                    println!("  {line}");
                }
                sent.push(body.clone());
            }
            (true, None) => {
                failures += 1;
                println!(
                    "{} / {}: takes the event but cannot render it: {}",
                    e.target,
                    e.mapping,
                    e.reason.as_deref().unwrap_or("?")
                );
            }
            (false, _) => println!(
                "{} / {}: does not fire: {}",
                e.target,
                e.mapping,
                e.reason.as_deref().unwrap_or("?")
            ),
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} mapping(s) cannot render the event");
    }
    if let Some(expect) = expect {
        let wanted = std::fs::read_to_string(expect)
            .with_context(|| format!("cannot read {}", expect.display()))?;
        let [body] = sent.as_slice() else {
            anyhow::bail!(
                "--expect needs exactly one request to compare, and the event makes {} (name one target with --target)",
                sent.len()
            );
        };
        // JSON is compared as JSON; any other body (CSV) byte for byte.
        let same = match (
            serde_json::from_str::<serde_json::Value>(&wanted),
            serde_json::from_str::<serde_json::Value>(body),
        ) {
            (Ok(w), Ok(g)) => w == g,
            _ => wanted == *body,
        };
        if !same {
            anyhow::bail!(
                "the body differs from {}:\n  expected {}\n  got      {}",
                expect.display(),
                wanted.trim_end(),
                body.trim_end()
            );
        }
        println!("the body is as {} expects", expect.display());
    }
    Ok(())
}

/// `sources check`: each source on a line, every problem on one, and a warning for
/// credentials this environment cannot read (the server reads them when a run starts).
fn sources_check(config: &Config, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| config.sources_dir.clone());
    if !dir.is_dir() {
        println!("{}: no such directory: no pull sources", dir.display());
        return Ok(());
    }
    match crate::sources::Registry::load(&dir) {
        Ok(registry) => {
            for source in registry.summaries() {
                let when = if source.every.starts_with("cron ") {
                    source.every.clone()
                } else {
                    format!("every {}", source.every)
                };
                println!(
                    "source '{}' ({}): {}, business {}, {when}, {}, {} {}{}",
                    source.name,
                    source.file,
                    source.kind,
                    source.business,
                    source.url,
                    if source.kind == "http" {
                        "items"
                    } else {
                        "files"
                    },
                    source.items,
                    source
                        .cursor_field
                        .as_deref()
                        .map(|c| format!(", cursor {c}"))
                        .unwrap_or_default()
                );
            }
            let warnings = registry.credential_warnings();
            for warning in &warnings {
                println!("warning: {warning}");
            }
            println!(
                "{}: {} source(s) from {} file(s), 0 error(s), {} warning(s)",
                dir.display(),
                registry.len(),
                registry.files().len(),
                warnings.len()
            );
            Ok(())
        }
        Err(problems) => {
            for problem in &problems {
                println!("error: {problem}");
            }
            anyhow::bail!(
                "{} error(s) in the sources in {}",
                problems.len(),
                dir.display()
            )
        }
    }
}

/// The table of `rules list`: the rules that apply to `business` (all when `None`),
/// grouped by the business they are written for, each group in the order tried.
fn rules_list(config: &Config, dir: Option<PathBuf>, business: Option<&str>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| config.rules_dir.clone());
    let options = rules::LoadOptions {
        max_document_bytes: config.max_document_bytes,
    };
    let (set, _) = rules::load_dir_with(&dir, &options).map_err(|report| {
        anyhow::anyhow!(
            "{}: {report}\nthe rules do not load; `freightgate rules check` says why",
            dir.display()
        )
    })?;
    let every = "(every business)";
    let mut rows: Vec<&rules::Rule> = set
        .rules()
        .iter()
        .filter(|rule| match (business, rule.business()) {
            (Some(wanted), Some(own)) => own == wanted,
            _ => true,
        })
        .collect();
    // Stable: within a business, the rules keep the order they are tried in.
    rows.sort_by_key(|rule| rule.business().unwrap_or(every));
    let mut written_for: Vec<&str> = set.rules().iter().filter_map(|r| r.business()).collect();
    written_for.sort_unstable();
    written_for.dedup();
    let written_for = if written_for.is_empty() {
        "no business".to_owned()
    } else {
        written_for.join(", ")
    };
    if rows.is_empty() {
        println!(
            "no rule in {} applies to business `{}`; rules are written for: {written_for}",
            dir.display(),
            business.unwrap_or_default(),
        );
        return Ok(());
    }
    println!(
        "{:<18} {:<36} {:<10} {:<8} {:>8}  file",
        "business", "rule", "entity", "op", "priority"
    );
    for rule in &rows {
        println!(
            "{:<18} {:<36} {:<10} {:<8} {:>8}  {}",
            rule.business().unwrap_or(every),
            rule.name(),
            rule.entity().to_string(),
            rule.operation().to_string(),
            rule.priority(),
            rule.file()
        );
    }
    println!("{} rule(s) in {}", rows.len(), dir.display());
    if let Some(wanted) = business
        && !rows.iter().any(|rule| rule.business() == Some(wanted))
    {
        println!(
            "no rule is written for business `{wanted}` itself, only for every business; \
             rules are written for: {written_for}"
        );
    }
    Ok(())
}

fn rules_test(config: &Config, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = load_rules_verbosely(config, dir)?;
    let results = rules::run_fixtures(&dir);
    if results.is_empty() {
        println!("no fixtures in {}", dir.join("tests").display());
        return Ok(());
    }
    for result in &results {
        println!("{result}");
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        anyhow::bail!("{failed} fixture(s) failed");
    }
    Ok(())
}
