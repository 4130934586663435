//! Compiling `[[reader]]` tables: a business's CSV dialect or fixed-width layout,
//! checked at load so that a bad one names its file, reader and key.

use super::formats::fixed::{Columns, Layout, Record};
use super::formats::{CsvDialect, Reader, ReaderKind, delimiter, encoding};
use super::raw::{RawFixedWidth, RawReader};
use std::sync::Arc;

/// Widest column and furthest start a layout may name, in characters.
const MAX_COLUMN: i64 = 100_000;

/// Media types read by the built-in readers, which a fixed-width reader may not take.
const BUILT_IN: [&str; 9] = [
    "application/json",
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/xml",
    "text/xml",
    "application/edifact",
    "application/edi-x12",
];

/// A reader, or its problems as `(key, message)`.
pub(crate) fn compile(raw: &RawReader) -> Result<Reader, Vec<(String, String)>> {
    let mut problems = Vec::new();
    if raw.name.trim().is_empty() {
        problems.push(("name".into(), "a reader needs a name".into()));
    }
    if raw.business.as_deref().is_some_and(|b| b.trim().is_empty()) {
        problems.push((
            "business".into(),
            "leave `business` out for a reader of every business".into(),
        ));
    }
    let encoding = match raw.charset.as_deref().map(encoding).transpose() {
        Ok(e) => e.unwrap_or(encoding_rs::UTF_8),
        Err(e) => {
            problems.push(("charset".into(), e.to_string()));
            encoding_rs::UTF_8
        }
    };
    let (kind, default_type) = match (&raw.csv, &raw.fixed_width) {
        (Some(csv), None) => {
            let mut dialect = CsvDialect {
                encoding,
                ..CsvDialect::default()
            };
            if let Some(d) = &csv.delimiter {
                match delimiter(d) {
                    Ok(d) => dialect.delimiter = d,
                    Err(e) => problems.push(("csv.delimiter".into(), e)),
                }
            }
            if let Some(q) = &csv.quote {
                match q.as_bytes() {
                    [q] if q.is_ascii_punctuation() && *q != dialect.delimiter => {
                        dialect.quote = *q
                    }
                    _ => problems.push((
                        "csv.quote".into(),
                        format!("quote `{q}`: one punctuation character other than the delimiter"),
                    )),
                }
            }
            dialect.header = csv.header.unwrap_or(true);
            (Some(ReaderKind::Csv(dialect)), "text/csv")
        }
        (None, Some(fixed)) => {
            let layout = layout(&raw.name, fixed, encoding, &mut problems);
            (
                layout.map(|l| ReaderKind::FixedWidth(Arc::new(l))),
                "text/plain",
            )
        }
        _ => {
            problems.push((
                "csv".into(),
                "a reader declares exactly one of `csv` and `fixed_width`".into(),
            ));
            (None, "")
        }
    };
    let content_type = raw
        .content_type
        .as_deref()
        .unwrap_or(default_type)
        .trim()
        .to_ascii_lowercase();
    match &kind {
        Some(ReaderKind::Csv(_)) if content_type != "text/csv" => problems.push((
            "content_type".into(),
            format!("a CSV reader reads text/csv, not `{content_type}`"),
        )),
        Some(ReaderKind::FixedWidth(_))
            if BUILT_IN.contains(&content_type.as_str())
                || content_type == "text/csv"
                || !content_type.contains('/')
                || content_type.contains(';') =>
        {
            problems.push((
                "content_type".into(),
                format!(
                    "`{content_type}`: a fixed-width reader takes a media type of its own (text/plain, text/x-fixed-width, …), without parameters"
                ),
            ))
        }
        _ => {}
    }
    match kind {
        Some(kind) if problems.is_empty() => Ok(Reader {
            name: raw.name.clone(),
            business: raw.business.clone(),
            content_type,
            kind,
        }),
        _ => Err(problems),
    }
}

fn columns(value: &[i64], at: String, problems: &mut Vec<(String, String)>) -> Option<Columns> {
    match value {
        [start, width] if (1..=MAX_COLUMN).contains(start) && (1..=MAX_COLUMN).contains(width) => {
            Some(Columns {
                start: usize::try_from(start - 1).ok()?,
                width: usize::try_from(*width).ok()?,
            })
        }
        _ => {
            problems.push((
                at,
                format!("columns are `[start, width]`, start from 1, both at most {MAX_COLUMN}: got {value:?}"),
            ));
            None
        }
    }
}

pub(crate) fn layout(
    name: &str,
    raw: &RawFixedWidth,
    encoding: &'static encoding_rs::Encoding,
    problems: &mut Vec<(String, String)>,
) -> Option<Layout> {
    let before = problems.len();
    let record_type = raw
        .record_type
        .as_deref()
        .and_then(|c| columns(c, "fixed_width.record_type".into(), problems));
    if raw.record.is_empty() {
        problems.push((
            "fixed_width.record".into(),
            "a layout needs at least one `[[reader.fixed_width.record]]`".into(),
        ));
    }
    let typed = raw.record_type.is_some();
    if !typed && raw.record.len() > 1 {
        problems.push((
            "fixed_width.record_type".into(),
            "several records need `record_type`, the columns that say which a line is".into(),
        ));
    }
    let mut records = Vec::new();
    let mut codes: Vec<&str> = Vec::new();
    let mut starts = 0;
    for (i, record) in raw.record.iter().enumerate() {
        let at = format!("fixed_width.record[{i}]");
        match (&record.code, typed) {
            (Some(code), true) if code.trim() != code || code.is_empty() => problems.push((
                format!("{at}.type"),
                format!("type `{code}` must be non-empty and without surrounding spaces"),
            )),
            (Some(code), true) if codes.contains(&code.as_str()) => problems.push((
                format!("{at}.type"),
                format!("type `{code}` is named twice"),
            )),
            (Some(code), true) => codes.push(code),
            (None, true) => problems.push((
                format!("{at}.type"),
                "with `record_type` every record names its `type`".into(),
            )),
            (Some(_), false) => problems.push((
                format!("{at}.type"),
                "`type` needs `record_type`, the columns it is read from".into(),
            )),
            (None, false) => {}
        }
        match (&record.under, typed) {
            (Some(list), _) if list.trim().is_empty() => problems.push((
                format!("{at}.under"),
                "`under` names the document's list the record is added to".into(),
            )),
            (Some(_), false) => problems.push((
                format!("{at}.under"),
                "`under` needs `record_type`: a line either starts a document or adds to one"
                    .into(),
            )),
            (Some(list), true) if record.fields.contains_key(list) => problems.push((
                format!("{at}.under"),
                format!("`{list}` is also one of the record's own fields"),
            )),
            _ => {}
        }
        if record.under.is_none() && !record.ignore {
            starts += 1;
        }
        if record.fields.is_empty() && !record.ignore {
            problems.push((
                format!("{at}.fields"),
                "a record that is not ignored reads at least one field".into(),
            ));
        }
        let mut fields = Vec::new();
        for (field, value) in &record.fields {
            if field.trim().is_empty() {
                problems.push((format!("{at}.fields"), "a field needs a name".into()));
            }
            if let Some(c) = columns(value, format!("{at}.fields.{field}"), problems) {
                fields.push((field.clone(), c));
            }
        }
        records.push(Record {
            code: record.code.clone(),
            under: record.under.clone(),
            ignore: record.ignore,
            fields,
        });
    }
    if starts == 0 && !raw.record.is_empty() {
        problems.push((
            "fixed_width.record".into(),
            "no record starts a document: one needs neither `under` nor `ignore`".into(),
        ));
    }
    (problems.len() == before).then(|| Layout {
        name: name.to_string(),
        record_type,
        records,
        encoding,
    })
}
