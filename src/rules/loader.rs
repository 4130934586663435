//! Loading rules files into a `RuleSet`, collecting every problem.

use super::formats::Reader;
use super::mapping::Lookup;
use super::raw::{RawFile, RawRule};
use super::reader;
use super::rule::{Rule, RuleEnv, compile_rule};
use super::ruleset::RuleSet;
use super::value::toml_to_json;
use super::warnings::overlap_warnings;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Default decoded size limit of document content: 10 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// Settings that apply to a whole rule set.
#[derive(Debug, Clone, Serialize)]
pub struct LoadOptions {
    /// Largest accepted decoded document, in bytes.
    pub max_document_bytes: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

/// One problem in the rules: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadIssue {
    /// Rules file name.
    pub file: String,
    /// Line of the rule (or of the syntax error), when known.
    pub line: Option<usize>,
    /// Rule name, when the problem is inside a rule.
    pub rule: Option<String>,
    /// Key inside the rule, e.g. `map.shipper.country` or `match.all[1].regex`.
    pub at: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Everything found while loading: errors block the set, warnings do not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Problems that prevent using the rules.
    pub errors: Vec<LoadIssue>,
    /// Doubtful but usable rules (ties, shadowed rules).
    pub warnings: Vec<LoadIssue>,
    /// Files read, in load order.
    pub files: Vec<String>,
    /// Rules compiled successfully.
    pub rules: usize,
}

impl LoadReport {
    /// True when there is no error.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    fn error(
        &mut self,
        file: &str,
        line: Option<usize>,
        rule: Option<&str>,
        at: Option<&str>,
        message: String,
    ) {
        self.errors.push(LoadIssue {
            file: file.to_string(),
            line,
            rule: rule.map(str::to_string),
            at: at.map(str::to_string),
            message,
        });
    }
}

impl fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": rule '{rule}'")?;
        }
        if let Some(at) = &self.at {
            write!(f, ": {at}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        write!(
            f,
            "{} rule(s) from {} file(s), {} error(s), {} warning(s)",
            self.rules,
            self.files.len(),
            self.errors.len(),
            self.warnings.len()
        )
    }
}

/// Loads every `*.toml` file of `dir` (in file-name order) with default options.
pub fn load_dir(dir: &Path) -> Result<(RuleSet, LoadReport), LoadReport> {
    load_dir_with(dir, &LoadOptions::default())
}

/// Loads every `*.toml` file of `dir` (in file-name order).
pub fn load_dir_with(
    dir: &Path,
    options: &LoadOptions,
) -> Result<(RuleSet, LoadReport), LoadReport> {
    let mut report = LoadReport::default();
    let dir_name = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            report.error(
                &dir_name,
                None,
                None,
                None,
                format!("cannot read rules directory: {e}"),
            );
            return Err(report);
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    let mut sources = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => report.error(&name, None, None, None, format!("cannot read file: {e}")),
        }
    }
    load_sources(&sources, options, report)
}

/// Loads rules from one TOML text (tests, benches, API uploads).
pub fn load_str(name: &str, toml: &str) -> Result<(RuleSet, LoadReport), LoadReport> {
    load_sources(
        &[(name.to_string(), toml.to_string())],
        &LoadOptions::default(),
        LoadReport::default(),
    )
}

/// Loads rules from several named TOML texts, in the given order.
pub fn load_sources(
    sources: &[(String, String)],
    options: &LoadOptions,
    mut report: LoadReport,
) -> Result<(RuleSet, LoadReport), LoadReport> {
    let mut parsed = Vec::new();
    for (name, text) in sources {
        report.files.push(name.clone());
        match toml::from_str::<RawFile>(text) {
            Ok(file) => parsed.push((name.as_str(), text.as_str(), file)),
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                report.error(name, line, None, None, e.message().trim().to_string());
            }
        }
    }
    let lookups = collect_lookups(&parsed, &mut report);
    let readers = collect_readers(&parsed, &mut report);
    let rules = compile_all(&parsed, &lookups, options, &mut report);
    report.rules = rules.len();
    if report.files.is_empty() {
        report.warnings.push(LoadIssue {
            file: String::new(),
            line: None,
            rule: None,
            at: None,
            message: "no rules files found".into(),
        });
    }
    report.warnings.extend(overlap_warnings(&rules));
    if !report.errors.is_empty() {
        return Err(report);
    }
    Ok((
        RuleSet::new(rules, readers, options.max_document_bytes),
        report,
    ))
}

/// Every file's `[[reader]]` tables, compiled; a name used twice is an error, and two
/// readers for the same business and media type are a warning (senders must then
/// name one with `; reader=NAME`).
fn collect_readers(parsed: &[(&str, &str, RawFile)], report: &mut LoadReport) -> Vec<Reader> {
    let mut readers: Vec<Reader> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (file, text, raw) in parsed {
        for entry in &raw.reader {
            let line = line_of(text, entry.span().start);
            let raw = entry.get_ref();
            let name = format!("reader '{}'", raw.name);
            if let Some(first) = seen.get(&raw.name) {
                let msg = format!("duplicate reader name (first defined at {first})");
                report.error(file, Some(line), Some(&name), Some("name"), msg);
                continue;
            }
            seen.insert(raw.name.clone(), format!("{file}:{line}"));
            match reader::compile(raw) {
                Ok(compiled) => {
                    if let Some(other) = readers.iter().find(|r| {
                        r.business == compiled.business && r.content_type == compiled.content_type
                    }) {
                        report.warnings.push(LoadIssue {
                            file: file.to_string(),
                            line: Some(line),
                            rule: Some(name.clone()),
                            at: Some("content_type".into()),
                            message: format!(
                                "readers '{}' and '{}' both read {} for {}: senders must name one with `; reader=NAME`",
                                other.name,
                                compiled.name,
                                compiled.content_type,
                                compiled
                                    .business
                                    .as_deref()
                                    .map_or("every business".to_string(), |b| format!("business `{b}`"))
                            ),
                        });
                    }
                    readers.push(compiled);
                }
                Err(problems) => {
                    for (at, msg) in problems {
                        report.error(file, Some(line), Some(&name), Some(&at), msg);
                    }
                }
            }
        }
    }
    readers
}

fn collect_lookups(
    parsed: &[(&str, &str, RawFile)],
    report: &mut LoadReport,
) -> HashMap<String, Arc<Lookup>> {
    let mut lookups: HashMap<String, (String, Arc<Lookup>)> = HashMap::new();
    for (file, text, raw) in parsed {
        for (name, table) in &raw.lookup {
            let line = Some(line_of(text, table.span().start));
            if let Some((first, _)) = lookups.get(name) {
                report.error(
                    file,
                    line,
                    None,
                    Some("lookup"),
                    format!("lookup table `{name}` is already defined in {first}"),
                );
                continue;
            }
            let mut entries = HashMap::new();
            for (k, v) in table.get_ref() {
                match toml_to_json(v) {
                    Ok(json) => {
                        entries.insert(k.clone(), json);
                    }
                    Err(e) => {
                        report.error(file, line, None, Some(&format!("lookup.{name}.{k}")), e)
                    }
                }
            }
            let lookup = Arc::new(Lookup {
                name: name.clone(),
                entries,
            });
            lookups.insert(name.clone(), (file.to_string(), lookup));
        }
    }
    lookups.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

fn compile_all(
    parsed: &[(&str, &str, RawFile)],
    lookups: &HashMap<String, Arc<Lookup>>,
    options: &LoadOptions,
    report: &mut LoadReport,
) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (file, text, raw) in parsed {
        let env = RuleEnv {
            file,
            lookups,
            max_document_bytes: options.max_document_bytes,
        };
        let lines = Lines::of(text);
        for entry in &raw.rule {
            let line = lines.line(entry.span().start);
            if let Some(rule) = compile_entry(entry.get_ref(), line, &env, &mut seen, report) {
                rules.push(rule);
            }
        }
    }
    rules
}

/// Compiles one `[[rule]]` table found at `line`; `seen` maps names to where they were first defined.
fn compile_entry(
    entry: &toml::Value,
    line: usize,
    env: &RuleEnv<'_>,
    seen: &mut HashMap<String, String>,
    report: &mut LoadReport,
) -> Option<Rule> {
    let file = env.file;
    let name = entry
        .get("name")
        .and_then(|n| n.as_str())
        .map(str::to_string);
    if let Some(n) = &name {
        if let Some(first) = seen.get(n) {
            let msg = format!("duplicate rule name (first defined at {first})");
            report.error(file, Some(line), Some(n), Some("name"), msg);
            return None;
        }
        seen.insert(n.clone(), format!("{file}:{line}"));
    }
    let raw_rule = match entry.clone().try_into::<RawRule>() {
        Ok(r) => r,
        Err(e) => {
            report.error(
                file,
                Some(line),
                name.as_deref(),
                None,
                e.message().trim().to_string(),
            );
            return None;
        }
    };
    match compile_rule(raw_rule, env) {
        Ok(rule) => Some(rule),
        Err(problems) => {
            for (at, msg) in problems {
                report.error(file, Some(line), name.as_deref(), Some(&at), msg);
            }
            None
        }
    }
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let before = &text.as_bytes()[..offset.min(text.len())];
    before.iter().filter(|b| **b == b'\n').count() + 1
}

/// The line numbers of many offsets in one text, without counting from its start
/// each time: a file of 10,000 rules would otherwise be read 10,000 times.
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub(crate) fn of(text: &str) -> Self {
        Self(
            text.bytes()
                .enumerate()
                .filter_map(|(i, b)| (b == b'\n').then_some(i))
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::{Lines, line_of};

    #[test]
    fn lines_answer_as_counting_from_the_start_does() {
        let text = "a\n\nbc\nd\n";
        let lines = Lines::of(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(lines.line(offset), line_of(text, offset), "offset {offset}");
        }
        assert_eq!(lines.line(3), 3);
    }
}
