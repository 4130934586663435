//! Reading a body into documents before the rules see them: one JSON document or
//! an array of them, NDJSON (one per line), CSV (one flat object per row, in the
//! dialect the sender's reader declares and its Content-Type overrides), XML (one
//! document, see [`xml`]), EDI (one per message, see [`edi`]) or fixed-width text
//! (by the sender's reader, see [`fixed`]). The unified endpoint and the fixture
//! runner read with this same code.

use serde_json::{Map, Value};
use std::sync::Arc;

pub mod edi;
pub mod edifact;
pub mod fixed;
pub mod x12;
pub mod xml;

/// Why a body cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// A Content-Type (or a parameter of it) that is not taken.
    Unsupported(String),
    /// The body cannot be read, and how.
    Unreadable(Unreadable, String),
    /// More documents than `max`.
    TooMany { max: usize },
}

/// The ways a body can be unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    Json,
    Xml,
    Edi,
    Encoding,
    Csv,
    FixedWidth,
    Empty,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Unsupported(detail) | ReadError::Unreadable(_, detail) => {
                f.write_str(detail)
            }
            ReadError::TooMany { max } => write!(f, "more than {max} documents"),
        }
    }
}

/// The body formats the unified endpoint takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Csv(CsvDialect),
    /// XML in the charset the Content-Type names, else the one its declaration
    /// names, else UTF-8.
    Xml(Option<&'static encoding_rs::Encoding>),
    /// A UN/EDIFACT interchange, one document per message (see [`edi`]); its UNB
    /// names the character set.
    Edifact,
    /// An ANSI X12 interchange, one document per transaction set (see [`edi`]).
    X12,
    /// Fixed-width text by a sender's declared layout (see [`fixed`]).
    FixedWidth(Arc<fixed::Layout>),
}

/// A `[[reader]]` of a rules file: how one business's (or every business's) bodies
/// of one media type are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub name: String,
    /// `None`: the reader applies to every business without one of its own.
    pub business: Option<String>,
    /// The media type's essence it reads, lower case (`text/csv`, `text/plain`).
    pub content_type: String,
    pub kind: ReaderKind,
}

/// What a reader reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderKind {
    /// CSV in this dialect; the Content-Type's parameters override it.
    Csv(CsvDialect),
    FixedWidth(Arc<fixed::Layout>),
}

/// How a CSV body is written, from its Content-Type parameters (RFC 4180's
/// `charset` and `header`, and `delimiter`): `text/csv; charset=windows-1252;
/// delimiter=";"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvDialect {
    pub delimiter: u8,
    /// The quote character (`"` unless a reader names another).
    pub quote: u8,
    /// Without a header row (`header=absent`) the columns are named `column_1`,
    /// `column_2`, …
    pub header: bool,
    pub encoding: &'static encoding_rs::Encoding,
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect {
            delimiter: b',',
            quote: b'"',
            header: true,
            encoding: encoding_rs::UTF_8,
        }
    }
}

const TAKEN: &str = "application/json, application/x-ndjson, text/csv, application/xml, application/EDIFACT, application/EDI-X12, or a type a `[[reader]]` of the rules declares";

impl Format {
    /// Chooses the format from a Content-Type header alone (no sender's readers);
    /// anything else is a 415.
    pub fn from_content_type(header: Option<&str>) -> Result<Self, ReadError> {
        Format::for_sender(header, &[], "")
    }

    /// Chooses the format for a body `business` sent: a reader the rules declare
    /// for the business (else for every business) and the Content-Type's essence
    /// comes first, with the Content-Type's parameters overriding its dialect; a
    /// `reader=NAME` parameter names one; otherwise the built-in formats.
    pub fn for_sender(
        header: Option<&str>,
        readers: &[Reader],
        business: &str,
    ) -> Result<Self, ReadError> {
        let Some(header) = header else {
            return Err(ReadError::Unsupported(format!(
                "missing Content-Type; send {TAKEN}"
            )));
        };
        let (essence, params) = parse_media_type(header);
        if let Some(reader) = choose_reader(readers, business, &essence, &params)? {
            return match &reader.kind {
                ReaderKind::Csv(dialect) => Ok(Format::Csv(csv_dialect(&params, *dialect)?)),
                ReaderKind::FixedWidth(layout) => Ok(Format::FixedWidth(match charset(&params)? {
                    Some(encoding) if encoding != layout.encoding => Arc::new(fixed::Layout {
                        encoding,
                        ..(**layout).clone()
                    }),
                    _ => layout.clone(),
                })),
            };
        }
        Format::built_in(header, &essence, &params)
    }

    fn built_in(
        header: &str,
        essence: &str,
        params: &[(String, String)],
    ) -> Result<Self, ReadError> {
        let format = match essence {
            "application/json" => Format::Json,
            e if e.starts_with("application/") && e.ends_with("+json") => Format::Json,
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines" => Format::Ndjson,
            "text/csv" => Format::Csv(csv_dialect(params, CsvDialect::default())?),
            "application/xml" | "text/xml" => Format::Xml(charset(params)?),
            e if e.starts_with("application/") && e.ends_with("+xml") => {
                Format::Xml(charset(params)?)
            }
            // RFC 1767's names; the interchange itself says its character set.
            "application/edifact" => Format::Edifact,
            "application/edi-x12" => Format::X12,
            _ => {
                return Err(ReadError::Unsupported(format!("`{header}`; send {TAKEN}")));
            }
        };
        if matches!(format, Format::Json | Format::Ndjson)
            && let Some((_, charset)) = params.iter().find(|(k, _)| k == "charset")
            && !charset.eq_ignore_ascii_case("utf-8")
            && !charset.eq_ignore_ascii_case("utf8")
        {
            return Err(ReadError::Unsupported(format!(
                "charset `{charset}`: JSON and NDJSON are read as UTF-8 only (a CSV may name another charset)"
            )));
        }
        Ok(format)
    }
}

/// The reader for this body, if the rules declare one: named by `reader=NAME`, else
/// the one for the business and the essence, else the one for every business.
fn choose_reader<'a>(
    readers: &'a [Reader],
    business: &str,
    essence: &str,
    params: &[(String, String)],
) -> Result<Option<&'a Reader>, ReadError> {
    let visible = |r: &&Reader| r.business.as_deref().is_none_or(|b| b == business);
    if let Some((_, name)) = params.iter().find(|(k, _)| k == "reader") {
        let reader = readers
            .iter()
            .filter(visible)
            .find(|r| r.name == *name)
            .ok_or_else(|| {
                let names: Vec<&str> = readers
                    .iter()
                    .filter(visible)
                    .map(|r| r.name.as_str())
                    .collect();
                ReadError::Unsupported(format!(
                    "reader `{name}` is not one the rules declare for business `{business}` ({})",
                    if names.is_empty() {
                        "it has none".to_string()
                    } else {
                        names.join(", ")
                    }
                ))
            })?;
        if reader.content_type != essence {
            return Err(ReadError::Unsupported(format!(
                "reader `{name}` reads {}, not {essence}",
                reader.content_type
            )));
        }
        return Ok(Some(reader));
    }
    for own in [true, false] {
        let found: Vec<&Reader> = readers
            .iter()
            .filter(visible)
            .filter(|r| r.business.is_some() == own && r.content_type == essence)
            .collect();
        match found.as_slice() {
            [] => {}
            [one] => return Ok(Some(one)),
            several => {
                let names: Vec<&str> = several.iter().map(|r| r.name.as_str()).collect();
                return Err(ReadError::Unsupported(format!(
                    "{essence} has {} readers for business `{business}` ({}): name one with `; reader=NAME`",
                    several.len(),
                    names.join(", ")
                )));
            }
        }
    }
    Ok(None)
}

/// A media type's essence (lower case) and its parameters (names lower case,
/// values unquoted).
fn parse_media_type(header: &str) -> (String, Vec<(String, String)>) {
    let mut parts = media_type_parts(header).into_iter();
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params: Vec<(String, String)> = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((k.trim().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    (essence, params)
}

/// The `charset` parameter, when there is one.
fn charset(
    params: &[(String, String)],
) -> Result<Option<&'static encoding_rs::Encoding>, ReadError> {
    params
        .iter()
        .find(|(k, _)| k == "charset")
        .map(|(_, value)| encoding(value))
        .transpose()
}

/// An encoding by its label; UTF-16 is not read (the readers work on ASCII-compatible text).
pub fn encoding(label: &str) -> Result<&'static encoding_rs::Encoding, ReadError> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes())
        .filter(|e| *e != encoding_rs::UTF_16BE && *e != encoding_rs::UTF_16LE)
        .ok_or_else(|| {
            ReadError::Unsupported(format!(
                "charset `{label}` is not one freightgate reads (utf-8, windows-1252, iso-8859-1, iso-8859-15, …)"
            ))
        })
}

/// The encoding an XML declaration names (`<?xml version="1.0" encoding="…"?>`).
fn declared_encoding(body: &[u8]) -> Option<&[u8]> {
    let head = &body[..body.len().min(256)];
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = &head[..end];
    let start = decl.windows(8).position(|w| w == b"encoding")? + 8;
    let rest = &decl[start..];
    let open = rest.iter().position(|b| *b == b'"' || *b == b'\'')?;
    let quote = rest[open];
    let value = &rest[open + 1..];
    let close = value.iter().position(|b| *b == quote)?;
    Some(&value[..close])
}

/// A media type split at the `;` outside quoted strings: the type, then each
/// parameter (`delimiter=";"` keeps its quoted semicolon).
fn media_type_parts(header: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in header.chars() {
        let part = parts.last_mut().expect("one part at least");
        match c {
            _ if escaped => {
                part.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' => {
                quoted = !quoted;
                part.push(c);
            }
            ';' if !quoted => parts.push(String::new()),
            _ => part.push(c),
        }
    }
    parts
}

/// A CSV dialect from Content-Type parameters; a value we cannot honour is a 415
/// that names it (unknown parameters are ignored, as HTTP asks).
fn csv_dialect(params: &[(String, String)], base: CsvDialect) -> Result<CsvDialect, ReadError> {
    let mut dialect = base;
    for (name, value) in params {
        match name.as_str() {
            "charset" => dialect.encoding = encoding(value)?,
            "delimiter" => {
                dialect.delimiter = delimiter(value).map_err(ReadError::Unsupported)?;
            }
            "header" => {
                dialect.header = match value.to_ascii_lowercase().as_str() {
                    "present" => true,
                    "absent" => false,
                    _ => {
                        return Err(ReadError::Unsupported(format!(
                            "header `{value}`: use present or absent"
                        )));
                    }
                };
            }
            _ => {}
        }
    }
    Ok(dialect)
}

/// A CSV delimiter by how it is written: one of `, ; | :` or `tab`.
pub fn delimiter(value: &str) -> Result<u8, String> {
    match value {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        v if v.len() == 1 && matches!(v.as_bytes()[0], b',' | b';' | b'|' | b'\t' | b':') => {
            Ok(v.as_bytes()[0])
        }
        _ => Err(format!("delimiter `{value}`: use one of , ; | : or tab")),
    }
}

/// One document of a payload, or why it could not be read.
#[derive(Debug, Clone)]
pub struct Document {
    /// Position in the payload (array element, line or row, from 0).
    pub index: usize,
    /// Where the document sits in the body, e.g. `$[2]`, `line 3`, `row 4`.
    pub location: String,
    pub value: Result<Value, String>,
}

/// Splits `body` into documents. A body that cannot be read at all (bad encoding,
/// malformed JSON, no documents) is a 400; a bad NDJSON line or CSV row only fails
/// its own document.
pub fn documents(format: Format, body: &[u8]) -> Result<Vec<Document>, ReadError> {
    documents_at_most(format, body, usize::MAX)
}

/// [`documents`], refusing a body of more than `max` documents with
/// `413 too_many_documents` before any of them is parsed.
pub fn documents_at_most(
    format: Format,
    body: &[u8],
    max: usize,
) -> Result<Vec<Document>, ReadError> {
    if matches!(format, Format::Edifact | Format::X12) {
        return edi_documents(format, body, max);
    }
    let decoded;
    let declared = match format {
        Format::Xml(None) => declared_encoding(body)
            .map(|label| encoding(&String::from_utf8_lossy(label)))
            .transpose()?,
        _ => None,
    };
    let charset = match &format {
        Format::Csv(dialect) => Some(dialect.encoding),
        Format::Xml(named) => named.or(declared),
        Format::FixedWidth(layout) => Some(layout.encoding),
        _ => None,
    };
    let text = match charset {
        Some(charset) if charset != encoding_rs::UTF_8 => {
            decoded = charset
                .decode_without_bom_handling_and_without_replacement(body)
                .ok_or_else(|| {
                    ReadError::Unreadable(
                        Unreadable::Encoding,
                        format!("the body is not valid {}", charset.name()),
                    )
                })?;
            &*decoded
        }
        _ => std::str::from_utf8(body).map_err(|e| {
            ReadError::Unreadable(
                Unreadable::Encoding,
                format!(
                    "the body is not valid UTF-8 (first bad byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Nothing but whitespace is the same mistake in every format: one code for it.
    if text.trim().is_empty() {
        return Err(empty());
    }
    let count = match &format {
        Format::Json => top_level_elements(text),
        Format::Ndjson => text.lines().filter(|l| !l.trim().is_empty()).count(),
        // Rows after the header line; a quoted field may span lines, so this can
        // overcount: the exact count is checked again below.
        Format::Csv(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
            .saturating_sub(1),
        // Counted as the records are read.
        Format::Xml(_) | Format::Edifact | Format::X12 | Format::FixedWidth(_) => 1,
    };
    if count > max && !matches!(format, Format::Csv(_)) {
        return Err(ReadError::TooMany { max });
    }
    let documents = match format {
        Format::Json => json(text)?,
        Format::Ndjson => ndjson(text),
        Format::Csv(dialect) => csv_rows(text, dialect)?,
        Format::FixedWidth(layout) => fixed::read(text, &layout, max).map_err(|why| match why {
            None => ReadError::TooMany { max },
            Some(why) => ReadError::Unreadable(Unreadable::FixedWidth, why),
        })?,
        Format::Xml(_) => vec![Document {
            index: 0,
            location: "$".into(),
            value: Ok(xml::read(text).map_err(|e| ReadError::Unreadable(Unreadable::Xml, e))?),
        }],
        // Read from the bytes above, before any decoding.
        Format::Edifact | Format::X12 => edi_documents(format, body, max)?,
    };
    if documents.len() > max {
        return Err(ReadError::TooMany { max });
    }
    let documents = documents.into_iter().map(refuse_nul).collect::<Vec<_>>();
    if documents.is_empty() {
        return Err(empty());
    }
    Ok(documents)
}

/// An EDI interchange's messages (transaction sets), read from the bytes: the
/// interchange names its own character set and separators.
fn edi_documents(format: Format, body: &[u8], max: usize) -> Result<Vec<Document>, ReadError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let (read, unit): (fn(&[u8], usize) -> _, _) = match format {
        Format::Edifact => (edifact::read, "message"),
        _ => (x12::read, "transaction set"),
    };
    let messages = read(body, max).map_err(|e| match e {
        edi::EdiError::TooMany { max } => ReadError::TooMany { max },
        edi::EdiError::Encoding(detail) => ReadError::Unreadable(Unreadable::Encoding, detail),
        edi::EdiError::NotInterchange(detail) | edi::EdiError::Malformed(detail) => {
            ReadError::Unreadable(Unreadable::Edi, detail)
        }
    })?;
    if messages.is_empty() {
        return Err(empty());
    }
    Ok(messages
        .into_iter()
        .enumerate()
        .map(|(index, value)| Document {
            index,
            location: format!("{unit} {}", index + 1),
            value: Ok(value),
        })
        .collect())
}

/// How many elements a top-level JSON array has (1 for any other value), counted
/// without parsing: commas at depth one outside strings. Exact for valid JSON; a body
/// that is not valid JSON fails when it is parsed.
fn top_level_elements(text: &str) -> usize {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('[') {
        return 1;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut commas = 0usize;
    let mut empty = true;
    for &byte in trimmed.as_bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                empty = false;
            }
            b'[' | b'{' => {
                if depth == 1 {
                    empty = false;
                }
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => commas += 1,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ if depth == 1 => empty = false,
            _ => {}
        }
    }
    if empty { 0 } else { commas + 1 }
}

fn empty() -> ReadError {
    ReadError::Unreadable(Unreadable::Empty, "the body holds no documents".into())
}

/// Whether any string or key in `value` holds a NUL character.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// NUL characters cannot be stored as text (PostgreSQL refuses them), so a document
/// carrying one is refused on its own instead of failing at the database.
fn refuse_nul(mut doc: Document) -> Document {
    if doc.value.as_ref().is_ok_and(has_nul) {
        doc.value = Err(format!(
            "{} holds a NUL character (\\u0000), which is not accepted",
            doc.location
        ));
    }
    doc
}

fn json(text: &str) -> Result<Vec<Document>, ReadError> {
    let value = strict_json(text).map_err(|e| {
        ReadError::Unreadable(Unreadable::Json, format!("the body is not valid JSON: {e}"))
    })?;
    Ok(match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(index, value)| Document {
                index,
                location: format!("$[{index}]"),
                value: Ok(value),
            })
            .collect(),
        single => vec![Document {
            index: 0,
            location: "$".into(),
            value: Ok(single),
        }],
    })
}

/// The Content-Type a file is read as, by its name's extension (`.edi` by whether it
/// starts as X12 or EDIFACT); JSON when the extension says nothing.
pub fn content_type_of(name: &str, bytes: &[u8]) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let x12 = bytes.trim_ascii_start().starts_with(b"ISA");
    match ext.as_str() {
        "ndjson" | "jsonl" => "application/x-ndjson",
        "csv" => "text/csv",
        "xml" => "application/xml",
        "x12" => "application/EDI-X12",
        "edi" if x12 => "application/EDI-X12",
        "edi" | "edifact" => "application/EDIFACT",
        "txt" | "dat" => "text/plain",
        _ => "application/json",
    }
}

/// Parses JSON, refusing an object that names a key twice: parsers disagree on which
/// of the two wins, so such a document has no one meaning to act on.
pub fn strict_json(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str::<Strict>(text).map(|s| s.0)
}

struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let shown: String = key.chars().take(64).collect();
                return Err(serde::de::Error::custom(format!("duplicate key `{shown}`")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn ndjson(text: &str) -> Vec<Document> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .enumerate()
        .map(|(index, (line_no, line))| Document {
            index,
            location: format!("line {}", line_no + 1),
            value: strict_json(line)
                .map_err(|e| format!("line {} is not valid JSON: {e}", line_no + 1)),
        })
        .collect()
}

fn csv_rows(text: &str, dialect: CsvDialect) -> Result<Vec<Document>, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .has_headers(dialect.header)
        .from_reader(text.as_bytes());
    let headers = if dialect.header {
        reader
            .headers()
            .map_err(|e| {
                ReadError::Unreadable(
                    Unreadable::Csv,
                    format!("the CSV header row cannot be read: {e}"),
                )
            })?
            .clone()
    } else {
        // The first row's width names the columns; a row of another width fails alone.
        let width = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .delimiter(dialect.delimiter)
            .quote(dialect.quote)
            .from_reader(text.as_bytes())
            .records()
            .find_map(Result::ok)
            .map_or(0, |r| r.len());
        (1..=width).map(|i| format!("column_{i}")).collect()
    };
    let first_row = if dialect.header { 2 } else { 1 };
    if headers.is_empty() || headers.iter().any(str::is_empty) {
        return Err(ReadError::Unreadable(
            Unreadable::Csv,
            "the CSV header row must name every column".into(),
        ));
    }
    let mut documents = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + first_row;
        let value = match record {
            Err(e) => Err(format!("row {row} cannot be read: {e}")),
            Ok(r) if r.len() != headers.len() => Err(format!(
                "row {row} has {} fields but the header has {}",
                r.len(),
                headers.len()
            )),
            Ok(r) => Ok(Value::Object(
                headers
                    .iter()
                    .zip(r.iter())
                    .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                    .collect::<Map<_, _>>(),
            )),
        };
        documents.push(Document {
            index,
            location: format!("row {row}"),
            value,
        });
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {

    #[test]
    fn top_level_elements_are_counted_without_parsing() {
        use super::top_level_elements as count;
        assert_eq!(count("[]"), 0);
        assert_eq!(count(" [ ] "), 0);
        assert_eq!(count("[{}]"), 1);
        assert_eq!(count("[{},{},{}]"), 3);
        assert_eq!(count(r#"[{"a":[1,2,3]},"x,y",{"b":{"c":","}}]"#), 3);
        assert_eq!(count(r#"["\",",1]"#), 2);
        assert_eq!(count(r#"{"a":1,"b":2}"#), 1);
        assert_eq!(count("[1,2]"), 2);
    }

    #[test]
    fn more_documents_than_the_cap_are_refused_before_parsing() {
        let lines = "{}\n".repeat(11);
        let refused = super::documents_at_most(Format::Ndjson, lines.as_bytes(), 10);
        assert!(matches!(refused, Err(ReadError::TooMany { max: 10 })));
        let array = format!("[{}{{}}]", "{},".repeat(10));
        let refused = super::documents_at_most(Format::Json, array.as_bytes(), 10);
        assert!(matches!(refused, Err(ReadError::TooMany { max: 10 })));
        let csv = format!("a\n{}", "1\n".repeat(11));
        let refused =
            super::documents_at_most(Format::Csv(CsvDialect::default()), csv.as_bytes(), 10);
        assert!(matches!(refused, Err(ReadError::TooMany { max: 10 })));
        assert_eq!(
            super::documents_at_most(Format::Ndjson, "{}\n".repeat(10).as_bytes(), 10)
                .unwrap()
                .len(),
            10
        );
    }

    use super::*;

    #[test]
    fn content_types_choose_the_format_and_others_are_refused() {
        assert_eq!(
            Format::from_content_type(Some("application/json; charset=utf-8")).unwrap(),
            Format::Json
        );
        assert_eq!(
            Format::from_content_type(Some("application/x-ndjson")).unwrap(),
            Format::Ndjson
        );
        assert_eq!(
            Format::from_content_type(Some("text/csv")).unwrap(),
            Format::Csv(CsvDialect::default())
        );
        assert!(Format::from_content_type(Some("text/plain")).is_err());
        assert!(Format::from_content_type(None).is_err());
    }

    #[test]
    fn csv_content_type_parameters_choose_the_dialect() {
        let dialect = |header: &str| match Format::from_content_type(Some(header)) {
            Ok(Format::Csv(d)) => d,
            other => panic!("{header}: {other:?}"),
        };
        let d = dialect(r#"text/csv; charset=windows-1252; delimiter=";"; header=present"#);
        assert_eq!((d.delimiter, d.header), (b';', true));
        assert_eq!(d.encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(dialect("text/csv;delimiter=tab").delimiter, b'\t');
        assert!(!dialect("text/csv; header=absent").header);
        for refused in [
            "text/csv; delimiter=ab",
            "text/csv; charset=klingon",
            "text/csv; header=maybe",
            "application/json; charset=iso-8859-1",
        ] {
            let problem = Format::from_content_type(Some(refused)).unwrap_err();
            assert!(matches!(problem, ReadError::Unsupported(_)), "{refused}");
        }
    }

    #[test]
    fn a_windows_1252_csv_with_semicolons_is_read_in_its_own_charset() {
        let header = r#"text/csv; charset=windows-1252; delimiter=";""#;
        let format = Format::from_content_type(Some(header)).unwrap();
        // "Gewicht;Empfänger\n1.234,5;Müller GmbH" in Windows-1252: ä is 0xE4, ü 0xFC.
        let body = b"Gewicht;Empf\xe4nger\n1.234,5;M\xfcller GmbH\n";
        let docs = documents(format, body).unwrap();
        assert_eq!(
            docs[0].value.as_ref().unwrap(),
            &serde_json::json!({"Gewicht": "1.234,5", "Empfänger": "Müller GmbH"})
        );
        assert_eq!(docs[0].location, "row 2");
        // The same bytes as UTF-8 are refused, not mangled.
        let utf8 = Format::from_content_type(Some(r#"text/csv; delimiter=";""#)).unwrap();
        let refused = documents(utf8, body).unwrap_err();
        assert!(matches!(
            refused,
            ReadError::Unreadable(Unreadable::Encoding, _)
        ));
    }

    #[test]
    fn a_csv_without_a_header_row_names_its_columns() {
        let format = Format::from_content_type(Some("text/csv; header=absent")).unwrap();
        let docs = documents(format, b"A-1,3\nA-2,4,extra\n").unwrap();
        assert_eq!(
            docs[0].value.as_ref().unwrap(),
            &serde_json::json!({"column_1": "A-1", "column_2": "3"})
        );
        assert_eq!(docs[0].location, "row 1");
        assert!(
            docs[1]
                .value
                .as_ref()
                .unwrap_err()
                .contains("row 2 has 3 fields")
        );
    }

    #[test]
    fn a_json_array_is_a_batch() {
        let docs = documents(Format::Json, br#"[{"a":1},{"b":2}]"#).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].location, "$[1]");
    }

    #[test]
    fn a_bad_ndjson_line_fails_alone() {
        let docs = documents(Format::Ndjson, b"{\"a\":1}\n{oops\n\n{\"c\":3}\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[0].value.is_ok() && docs[2].value.is_ok());
        assert!(docs[1].value.as_ref().unwrap_err().contains("line 2"));
    }

    #[test]
    fn csv_rows_become_flat_objects_with_quoted_newlines_and_bom() {
        let body = "\u{feff}id,name\n1,\"two\nlines\"\n2\n";
        let docs = documents(Format::Csv(CsvDialect::default()), body.as_bytes()).unwrap();
        assert_eq!(docs[0].value.as_ref().unwrap()["name"], "two\nlines");
        assert!(
            docs[1]
                .value
                .as_ref()
                .unwrap_err()
                .contains("row 3 has 1 fields")
        );
    }

    #[test]
    fn a_nul_character_fails_its_document_only() {
        let docs = documents(Format::Json, br#"[{"a":"x\u0000y"},{"a":"ok"}]"#).unwrap();
        assert!(docs[0].value.as_ref().unwrap_err().contains("NUL"));
        assert!(docs[1].value.is_ok());
    }

    #[test]
    fn a_key_named_twice_is_refused_with_its_position() {
        let error = strict_json(r#"{"operation": "CREATE", "operation": "DELETE"}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate key `operation`"),
            "{error}"
        );
        assert!(error.to_string().contains("line 1"), "{error}");
        let nested = r#"[{"a": {"b": 1, "c": {"b": 2}}}, {"a": 1}]"#;
        assert_eq!(
            strict_json(nested).unwrap(),
            serde_json::from_str::<Value>(nested).unwrap()
        );
        assert!(strict_json(&format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000))).is_err());
        assert!(strict_json("1e400").is_err());
    }

    #[test]
    fn unreadable_bodies_are_bad_requests() {
        assert!(matches!(
            documents(Format::Json, b"\xff\xfe"),
            Err(ReadError::Unreadable(Unreadable::Encoding, _))
        ));
        assert!(matches!(
            documents(Format::Json, b"{"),
            Err(ReadError::Unreadable(Unreadable::Json, _))
        ));
        assert!(matches!(
            documents(Format::Json, b"[]"),
            Err(ReadError::Unreadable(Unreadable::Empty, _))
        ));
        let deep = "[".repeat(10_000);
        assert!(documents(Format::Json, deep.as_bytes()).is_err());
    }

    #[test]
    fn an_empty_body_is_empty_payload_in_every_format() {
        for format in [
            Format::Json,
            Format::Ndjson,
            Format::Csv(CsvDialect::default()),
        ] {
            for body in [&b""[..], b"  \n\t ", b"\xef\xbb\xbf"] {
                assert!(
                    matches!(
                        documents(format.clone(), body),
                        Err(ReadError::Unreadable(Unreadable::Empty, _))
                    ),
                    "{format:?} {body:?}"
                );
            }
        }
    }
}
