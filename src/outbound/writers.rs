//! Writers that mirror the unified endpoint's readers: a mapping's body, built in
//! the shape a reader gives (see `rules::formats`), is written as fixed-width text,
//! a UN/EDIFACT interchange or an ANSI X12 interchange. What one of these writes,
//! the matching reader reads back into the same document.
//!
//! Nothing is cut to fit: a value wider than its columns, a separator X12 cannot
//! escape, a key that names no element or a character the interchange's character
//! set does not hold is an error naming the field, and the event is not rendered.

use serde_json::{Map, Value};

use crate::rules::formats::fixed::{Columns, Layout, Record};

/// The documents of a body: an object is one, a list holds several.
fn documents(body: &Value) -> Result<Vec<&Map<String, Value>>, String> {
    let list: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    if list.is_empty() {
        return Err("body: no document to write".into());
    }
    list.into_iter()
        .enumerate()
        .map(|(i, d)| {
            d.as_object()
                .ok_or_else(|| format!("body[{i}]: a document is an object, not {d}"))
        })
        .collect()
}

/// A value as text: strings as they are, numbers as written; nothing for null or "".
fn text(value: &Value, at: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!(
            "{at}: a field's value is text or a number, not {other}"
        )),
    }
}

// ---------------------------------------------------------------------------
// Fixed width

/// Fixed-width text by `layout`, a line per record: each document's fields on the
/// line of the record that starts a document (with its `type` at the record-type
/// columns), then a line for each element of each of its `under` lists. Text is
/// left-aligned and padded with spaces, numbers right-aligned and padded with
/// zeros; a field the layout has no columns for is an error, as is a value wider
/// than its columns. Lines end with `\r\n`.
pub(crate) fn fixed_width(layout: &Layout, body: &Value) -> Result<String, String> {
    let start = layout
        .records
        .iter()
        .find(|r| r.under.is_none() && !r.ignore)
        .ok_or("the layout has no record that starts a document")?;
    let mut out = String::new();
    for (d, document) in documents(body)?.into_iter().enumerate() {
        let lists: Vec<&str> = layout
            .records
            .iter()
            .filter_map(|r| r.under.as_deref())
            .collect();
        let own: Map<String, Value> = document
            .iter()
            .filter(|(key, _)| !lists.contains(&key.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push_str(&fixed_line(layout, start, &own, &format!("body[{d}]"))?);
        for record in layout.records.iter().filter(|r| r.under.is_some()) {
            let key = record.under.as_deref().unwrap_or_default();
            let items: Vec<&Value> = match document.get(key) {
                Some(Value::Array(items)) => items.iter().collect(),
                None | Some(Value::Null) => Vec::new(),
                Some(one) => vec![one],
            };
            for (i, item) in items.into_iter().enumerate() {
                let at = format!("body[{d}].{key}[{i}]");
                let fields = item
                    .as_object()
                    .ok_or_else(|| format!("{at}: a line is an object of fields"))?;
                out.push_str(&fixed_line(layout, record, fields, &at)?);
            }
        }
    }
    Ok(out)
}

fn fixed_line(
    layout: &Layout,
    record: &Record,
    fields: &Map<String, Value>,
    at: &str,
) -> Result<String, String> {
    let mut line: Vec<char> = Vec::new();
    let mut put = |columns: Columns, value: &str, right: bool, what: &str| {
        let chars: Vec<char> = value.chars().collect();
        if chars.len() > columns.width {
            return Err(format!(
                "{what}: `{value}` is {} characters, its columns hold {}",
                chars.len(),
                columns.width
            ));
        }
        if line.len() < columns.start + columns.width {
            line.resize(columns.start + columns.width, ' ');
        }
        let pad = columns.width - chars.len();
        let (fill, from) = if right { ('0', pad) } else { (' ', 0) };
        for i in 0..columns.width {
            line[columns.start + i] = if i >= from && i - from < chars.len() {
                chars[i - from]
            } else {
                fill
            };
        }
        Ok(())
    };
    if let (Some(columns), Some(code)) = (layout.record_type, &record.code) {
        put(columns, code, false, &format!("{at}: the record type"))?;
    }
    for (name, value) in fields {
        let what = format!("{at}.{name}");
        let columns = record
            .fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                format!(
                    "{what}: the layout's record {} has no columns for `{name}`",
                    record.code.as_deref().unwrap_or("(the only one)")
                )
            })?;
        let Some(mut value_text) = text(value, &what)? else {
            continue;
        };
        let number = value.is_number();
        if number && value_text.starts_with('-') {
            // The sign leads the zeros: -12 in five columns is -0012.
            value_text.remove(0);
            let digits = value_text.chars().count();
            if digits + 1 > columns.width {
                return Err(format!(
                    "{what}: `-{value_text}` is {} characters, its columns hold {}",
                    digits + 1,
                    columns.width
                ));
            }
            value_text = format!("-{}{value_text}", "0".repeat(columns.width - 1 - digits));
        }
        put(columns, &value_text, number, &what)?;
    }
    let mut text: String = line.into_iter().collect();
    text.truncate(text.trim_end_matches(' ').len());
    text.push_str("\r\n");
    Ok(text)
}

// ---------------------------------------------------------------------------
// EDIFACT and X12: segments from the document tree

/// One segment: its tag, and its elements, each a list of repetitions, each a
/// list of components.
struct Segment {
    tag: String,
    elements: Vec<Vec<Vec<String>>>,
}

/// A key of a document that names a segment: two or three capitals and digits,
/// starting with a capital.
fn is_tag(key: &str) -> bool {
    (2..=3).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Where an element key (`BGM02`, `BGM02_2`, `BGM02_r2`, `BGM02_r2_3`) puts its
/// value: element, repetition and component, counted from 0.
fn position(tag: &str, key: &str) -> Option<(usize, usize, usize)> {
    let rest = key.strip_prefix(tag)?;
    let (number, mut rest) = (rest.get(..2)?, rest.get(2..)?);
    let element: usize = number
        .parse()
        .ok()
        .filter(|n| (1..=99).contains(n) && number.bytes().all(|b| b.is_ascii_digit()))?;
    let mut repetition = 1;
    if let Some(r) = rest.strip_prefix("_r") {
        let end = r.find('_').unwrap_or(r.len());
        repetition = r[..end].parse().ok().filter(|n| (2..=99).contains(n))?;
        rest = &r[end..];
    }
    let mut component = 1;
    if let Some(c) = rest.strip_prefix('_') {
        component = c.parse().ok().filter(|n| (2..=99).contains(n))?;
    } else if !rest.is_empty() {
        return None;
    }
    Some((element - 1, repetition - 1, component - 1))
}

/// The segments of a document (or of a group's opening segment), in the order of
/// its keys, each group's segments after the one that opens it. `skip` names the
/// envelope's segments, written apart.
fn segments(
    node: &Map<String, Value>,
    at: &str,
    skip: &[&str],
    out: &mut Vec<Segment>,
) -> Result<(), String> {
    for (key, value) in node {
        if skip.contains(&key.as_str()) {
            continue;
        }
        if !is_tag(key) {
            return Err(format!(
                "{at}.{key}: not a segment tag (two or three capitals and digits)"
            ));
        }
        for (i, segment) in occurrences(value).into_iter().enumerate() {
            let here = format!("{at}.{key}[{i}]");
            let fields = segment
                .as_object()
                .ok_or_else(|| format!("{here}: a segment is an object of elements"))?;
            out.push(segment_of(key, fields, &here)?);
            let nested: Map<String, Value> = fields
                .iter()
                .filter(|(k, _)| is_tag(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            segments(&nested, &here, &[], out)?;
        }
    }
    Ok(())
}

/// A segment key's value: one segment (an object) or several (a list).
fn occurrences(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

fn segment_of(tag: &str, fields: &Map<String, Value>, at: &str) -> Result<Segment, String> {
    let mut elements: Vec<Vec<Vec<String>>> = Vec::new();
    for (key, value) in fields {
        if is_tag(key) {
            continue;
        }
        let (e, r, c) = position(tag, key).ok_or_else(|| {
            format!(
                "{at}.{key}: not an element of {tag} (`{tag}01`, `{tag}01_2` for a component, `{tag}01_r2` for a repetition)"
            )
        })?;
        let Some(value) = text(value, &format!("{at}.{key}"))? else {
            continue;
        };
        if elements.len() <= e {
            elements.resize(e + 1, Vec::new());
        }
        if elements[e].len() <= r {
            elements[e].resize(r + 1, Vec::new());
        }
        if elements[e][r].len() <= c {
            elements[e][r].resize(c + 1, String::new());
        }
        elements[e][r][c] = value;
    }
    Ok(Segment {
        tag: tag.to_string(),
        elements,
    })
}

/// The separators a segment is written with.
struct Syntax {
    element: char,
    component: char,
    repetition: Option<char>,
    terminator: char,
    /// EDIFACT's release character; X12 has none, so a separator in a value is an error.
    release: Option<char>,
    /// The characters a value may hold, and what to call the set.
    charset: (fn(char) -> bool, &'static str),
}

impl Syntax {
    fn write(&self, segment: &Segment, out: &mut String) -> Result<(), String> {
        let separators = [
            Some(self.element),
            Some(self.component),
            self.repetition,
            Some(self.terminator),
            self.release,
        ];
        out.push_str(&segment.tag);
        let mut elements: &[Vec<Vec<String>>] = &segment.elements;
        while elements
            .last()
            .is_some_and(|e| e.iter().flatten().all(String::is_empty))
        {
            elements = &elements[..elements.len() - 1];
        }
        for (e, element) in elements.iter().enumerate() {
            out.push(self.element);
            if element.len() > 1 && self.repetition.is_none() {
                return Err(format!(
                    "{}{:02}: repetitions need a repetition separator (EDIFACT syntax version 4, X12 00402 or later)",
                    segment.tag,
                    e + 1
                ));
            }
            for (r, repetition) in element.iter().enumerate() {
                if r > 0 {
                    out.push(self.repetition.unwrap_or_default());
                }
                let mut components: &[String] = repetition;
                while components.last().is_some_and(String::is_empty) {
                    components = &components[..components.len() - 1];
                }
                for (c, value) in components.iter().enumerate() {
                    if c > 0 {
                        out.push(self.component);
                    }
                    for ch in value.chars() {
                        if !(self.charset.0)(ch) || (ch.is_control() && ch != '\t') {
                            return Err(format!(
                                "{}{:02}: `{value}` holds {ch:?}, which {} cannot carry",
                                segment.tag,
                                e + 1,
                                self.charset.1
                            ));
                        }
                        if separators.contains(&Some(ch)) {
                            match self.release {
                                Some(release) => out.push(release),
                                None => {
                                    return Err(format!(
                                        "{}{:02}: `{value}` holds the separator {ch:?}, which X12 cannot escape",
                                        segment.tag,
                                        e + 1
                                    ));
                                }
                            }
                        }
                        out.push(ch);
                    }
                }
            }
        }
        out.push(self.terminator);
        Ok(())
    }
}

/// The one occurrence of an envelope segment a document must give.
fn envelope<'a>(
    document: &'a Map<String, Value>,
    tag: &str,
    at: &str,
    what: &str,
) -> Result<&'a Map<String, Value>, String> {
    let found = document.get(tag).map(occurrences).unwrap_or_default();
    match found.as_slice() {
        [one] => one
            .as_object()
            .ok_or_else(|| format!("{at}.{tag}: a segment is an object of elements")),
        [] => Err(format!("{at}.{tag}: missing; {what}")),
        _ => Err(format!(
            "{at}.{tag}: given {} times, once only",
            found.len()
        )),
    }
}

/// An element's first component as given, or an error saying what it is for.
fn required(segment: &Map<String, Value>, key: &str, what: &str) -> Result<String, String> {
    segment
        .get(key)
        .map(|v| text(v, key))
        .transpose()?
        .flatten()
        .ok_or_else(|| format!("{key}: missing; {what}"))
}

/// A message (EDIFACT) or transaction set (X12): its header, which the document
/// gives, its segments, and a trailer that counts them and repeats the reference.
struct Message {
    header: &'static str,
    trailer: &'static str,
    /// The header's element the trailer repeats.
    reference: &'static str,
    /// What the header holds, for the error when a document has none.
    what: &'static str,
    /// The envelope's segments, written apart from a document's own.
    envelope: &'static [&'static str],
}

impl Message {
    fn write(
        &self,
        document: &Map<String, Value>,
        d: usize,
        syntax: &Syntax,
        out: &mut String,
    ) -> Result<(), String> {
        let at = format!("body[{d}]");
        let header = envelope(document, self.header, &at, self.what)?;
        let reference = required(header, self.reference, "the reference its trailer repeats")?;
        let mut body = vec![segment_of(
            self.header,
            header,
            &format!("{at}.{}", self.header),
        )?];
        segments(document, &at, self.envelope, &mut body)?;
        body.push(Segment {
            tag: self.trailer.into(),
            elements: vec![
                vec![vec![(body.len() + 1).to_string()]],
                vec![vec![reference]],
            ],
        });
        body.iter()
            .try_for_each(|segment| syntax.write(segment, out))
    }
}

// ---------------------------------------------------------------------------
// EDIFACT

/// A UN/EDIFACT interchange: UNA, the first document's UNB (and UNG, when it gives
/// one), then each document as a message from its UNH to a UNT that counts its
/// segments, then UNE and UNZ. The trailers are counted here: a document's own
/// `UNT` is not written. Separators are the standard `:+.? '` (repetition `*` from
/// syntax version 4). UNOA and UNOB interchanges take ASCII; the body is written as
/// UTF-8, so values beyond ASCII need UNOW or UNOY.
pub(crate) fn edifact(body: &Value) -> Result<String, String> {
    let documents = documents(body)?;
    let first = documents[0];
    let unb = envelope(
        first,
        "UNB",
        "body[0]",
        "the interchange header: syntax (`UNB01` UNOC, `UNB01_2` 3), sender, recipient, date and time, control reference (`UNB05`)",
    )?;
    let syntax_id = required(unb, "UNB01", "the syntax identifier, such as UNOC or UNOY")?;
    let version = required(unb, "UNB01_2", "the syntax version, such as 3 or 4")?;
    let control = required(unb, "UNB05", "the interchange's control reference")?;
    let charset: (fn(char) -> bool, &'static str) = match syntax_id.as_str() {
        "UNOW" | "UNOY" => (|_| true, "UTF-8"),
        "UNOA" | "UNOB" | "UNOC" => (
            |c| c.is_ascii(),
            "this interchange (freightgate writes UTF-8: characters beyond ASCII need UNOW or UNOY)",
        ),
        other => {
            return Err(format!(
                "UNB01: `{other}`; freightgate writes UNOA, UNOB, UNOC (ASCII values), UNOW and UNOY"
            ));
        }
    };
    let syntax = Syntax {
        element: '+',
        component: ':',
        repetition: (version.parse::<u32>().unwrap_or(0) >= 4).then_some('*'),
        terminator: '\'',
        release: Some('?'),
        charset,
    };
    let mut out = String::from(if syntax.repetition.is_some() {
        "UNA:+.?*'"
    } else {
        "UNA:+.? '"
    });
    syntax.write(&segment_of("UNB", unb, "body[0].UNB")?, &mut out)?;
    let ung = match first.get("UNG") {
        Some(_) => Some(envelope(first, "UNG", "body[0]", "")?),
        None => None,
    };
    if let Some(ung) = ung {
        syntax.write(&segment_of("UNG", ung, "body[0].UNG")?, &mut out)?;
    }
    let message = Message {
        header: "UNH",
        trailer: "UNT",
        reference: "UNH01",
        what: "the message header: reference (`UNH01`) and type (`UNH02` IFTSTA, `UNH02_2` D, `UNH02_3` 01B, `UNH02_4` UN)",
        envelope: &["UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"],
    };
    for (d, document) in documents.iter().enumerate() {
        message.write(document, d, &syntax, &mut out)?;
    }
    if let Some(ung) = ung {
        let group = required(ung, "UNG05", "the group's reference")?;
        syntax.write(
            &Segment {
                tag: "UNE".into(),
                elements: vec![vec![vec![documents.len().to_string()]], vec![vec![group]]],
            },
            &mut out,
        )?;
    }
    let count = if ung.is_some() { 1 } else { documents.len() };
    syntax.write(
        &Segment {
            tag: "UNZ".into(),
            elements: vec![vec![vec![count.to_string()]], vec![vec![control]]],
        },
        &mut out,
    )?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// X12

/// How wide ISA01 … ISA16 are, and which are numbers (zero-padded on the left).
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
const ISA_NUMBERS: [usize; 4] = [9, 10, 12, 13];

/// An ANSI X12 interchange: the first document's ISA (each element padded to its
/// fixed width: text with spaces, dates, times, the version and the control number
/// with zeros) and GS, each document as a transaction set from its ST to an SE that
/// counts its segments, then GE and IEA. Separators: `*` between elements, ISA16
/// (default `>`) between components, ISA11 between repetitions from version 00402
/// (default `^`; `U` before), `~` after each segment. X12 has no release character:
/// a separator inside a value is an error.
pub(crate) fn x12(body: &Value) -> Result<String, String> {
    let documents = documents(body)?;
    let first = documents[0];
    let isa = envelope(
        first,
        "ISA",
        "body[0]",
        "the interchange header: qualifiers and IDs of sender (`ISA05`, `ISA06`) and receiver (`ISA07`, `ISA08`), date, time, version (`ISA12`), control number (`ISA13`)",
    )?;
    let version = required(isa, "ISA12", "the version, such as 00501")?;
    required(isa, "ISA13", "the interchange control number")?;
    let component = isa
        .get("ISA16")
        .map(|v| text(v, "ISA16"))
        .transpose()?
        .flatten()
        .unwrap_or_else(|| ">".into());
    let modern = version.parse::<u32>().unwrap_or(0) >= 402;
    let repetition = isa
        .get("ISA11")
        .map(|v| text(v, "ISA11"))
        .transpose()?
        .flatten()
        .unwrap_or_else(|| if modern { "^" } else { "U" }.into());
    let single = |s: &str, key: &str| -> Result<char, String> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_punctuation() || c == '|' => Ok(c),
            _ => Err(format!("{key}: `{s}` is not one separator character")),
        }
    };
    let syntax = Syntax {
        element: '*',
        component: single(&component, "ISA16")?,
        repetition: if modern {
            Some(single(&repetition, "ISA11")?)
        } else {
            None
        },
        terminator: '~',
        release: None,
        charset: (
            |c| c.is_ascii(),
            "X12 (freightgate writes ASCII interchanges)",
        ),
    };
    let separators = [Some(syntax.component), syntax.repetition];
    if separators.iter().flatten().any(|c| matches!(c, '*' | '~'))
        || syntax.repetition == Some(syntax.component)
    {
        return Err("ISA11, ISA16: the separators must differ from each other, `*` and `~`".into());
    }
    // ISA: every element at its fixed width.
    let mut out = String::from("ISA");
    let mut control_written = String::new();
    for (i, width) in ISA_WIDTHS.iter().enumerate() {
        let key = format!("ISA{:02}", i + 1);
        let value = match i + 1 {
            11 => {
                if modern {
                    repetition.clone()
                } else {
                    "U".into()
                }
            }
            16 => component.clone(),
            _ => isa
                .get(&key)
                .map(|v| text(v, &key))
                .transpose()?
                .flatten()
                .unwrap_or_default(),
        };
        let length = value.chars().count();
        if length > *width {
            return Err(format!(
                "{key}: `{value}` is {length} characters, the element holds {width}"
            ));
        }
        if !value.is_ascii() || value.contains(['*', '~', syntax.component]) && i + 1 != 16 {
            return Err(format!("{key}: `{value}` cannot be written in ISA"));
        }
        let padded = if ISA_NUMBERS.contains(&(i + 1)) && value.bytes().all(|b| b.is_ascii_digit())
        {
            format!("{}{value}", "0".repeat(width - length))
        } else {
            format!("{value}{}", " ".repeat(width - length))
        };
        if i + 1 == 13 {
            control_written.clone_from(&padded);
        }
        out.push('*');
        out.push_str(&padded);
    }
    out.push('~');
    for key in isa.keys() {
        if position("ISA", key).is_none_or(|(e, r, c)| e >= 16 || r > 0 || c > 0) {
            return Err(format!("ISA.{key}: not one of ISA01 … ISA16"));
        }
    }
    let gs = envelope(
        first,
        "GS",
        "body[0]",
        "the functional group header: code (`GS01`), sender, receiver, date, time, control number (`GS06`), agency (`GS07` X), version (`GS08`)",
    )?;
    let group = required(gs, "GS06", "the group control number")?;
    syntax.write(&segment_of("GS", gs, "body[0].GS")?, &mut out)?;
    let set = Message {
        header: "ST",
        trailer: "SE",
        reference: "ST02",
        what: "the transaction set header: its identifier (`ST01` 214) and control number (`ST02`)",
        envelope: &["ISA", "GS", "ST", "SE", "GE", "IEA"],
    };
    for (d, document) in documents.iter().enumerate() {
        set.write(document, d, &syntax, &mut out)?;
    }
    for (tag, count, reference) in [("GE", documents.len(), group), ("IEA", 1, control_written)] {
        syntax.write(
            &Segment {
                tag: tag.into(),
                elements: vec![vec![vec![count.to_string()]], vec![vec![reference]]],
            },
            &mut out,
        )?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::formats::{edifact as read_edifact, x12 as read_x12};
    use serde_json::json;

    fn feed(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/feeds/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// A document read, written and read again is the same document.
    #[test]
    fn edifact_and_x12_documents_read_back_as_written() {
        for name in ["iftmin.edi", "iftsta.edi"] {
            let mut documents = read_edifact::read(&feed(name), 100).unwrap();
            // The feeds are UNOC (ISO 8859-1) with values beyond ASCII; written
            // text is UTF-8, so they go out as UNOY.
            for d in &mut documents {
                d["UNB"][0]["UNB01"] = "UNOY".into();
            }
            let written = edifact(&Value::Array(documents.clone())).unwrap();
            let again = read_edifact::read(written.as_bytes(), 100)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{written}"));
            assert_eq!(again, documents, "{name}:\n{written}");
        }
        for name in [
            "x12-204.edi",
            "x12-214.edi",
            "x12-214-arrived.edi",
            "x12-204-cancel.edi",
        ] {
            let documents = read_x12::read(&feed(name), 100).unwrap();
            let written = x12(&Value::Array(documents.clone())).unwrap();
            let again = read_x12::read(written.as_bytes(), 100)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{written}"));
            assert_eq!(again, documents, "{name}:\n{written}");
        }
    }

    /// The shipped example's files (what `outbound test --expect` compares with in
    /// CI) are read by the unified endpoint's readers.
    #[test]
    fn the_shipped_examples_files_read_back() {
        let file = |ext: &str, target: &str| {
            feed(&format!(
                "outbound/shipment-completed.customer-{target}.{ext}"
            ))
        };
        let iftsta = read_edifact::read(&file("edi", "iftsta"), 10).unwrap();
        assert_eq!(iftsta[0]["BGM"][0]["BGM02"], "NW-SHP-240611-0042");
        let sts = &iftsta[0]["CNI"][0]["STS"][0];
        assert_eq!(sts["DTM"][0]["DTM01_2"], "202606111405");
        assert_eq!(sts["PCI"][1]["PCI02"], "PLT-0007732");
        let x12 = read_x12::read(&file("x12", "x12-214"), 10).unwrap();
        assert_eq!(x12[0]["LX"][0]["AT8"][0]["AT803"], "8450.5");
        let text = String::from_utf8(file("txt", "as400-despatch")).unwrap();
        let mut layout = layout();
        layout.records[0].code = Some("SHP".into());
        layout.records[0].fields = vec![(
            "shipment".into(),
            Columns {
                start: 3,
                width: 20,
            },
        )];
        layout.records[1].code = Some("PAL".into());
        layout.records[1].under = Some("pallets".into());
        layout.records[1].fields = vec![(
            "pallet".into(),
            Columns {
                start: 3,
                width: 20,
            },
        )];
        let read = crate::rules::formats::fixed::read(&text, &layout, 10).unwrap();
        let value = read[0].value.clone().unwrap();
        assert_eq!(value["shipment"], "NW-SHP-240611-0042");
        assert_eq!(value["pallets"][1]["pallet"], "PLT-0007732");
    }

    #[test]
    fn edifact_escapes_separators_and_counts_its_segments() {
        let doc = json!({
            "UNB": {"UNB01": "UNOC", "UNB01_2": "3", "UNB02": "FG", "UNB03": "PN",
                    "UNB04": "261206", "UNB04_2": "1200", "UNB05": "17"},
            "UNH": {"UNH01": "1", "UNH02": "IFTSTA", "UNH02_2": "D", "UNH02_3": "01B", "UNH02_4": "UN"},
            "BGM": {"BGM01": "23", "BGM02": "SH-1"},
            "FTX": [{"FTX01": "AAA", "FTX04": "dock 3: 'B+C'?"}],
        });
        let written = edifact(&doc).unwrap();
        assert_eq!(
            written,
            "UNA:+.? 'UNB+UNOC:3+FG+PN+261206:1200+17'UNH+1+IFTSTA:D:01B:UN'BGM+23+SH-1'FTX+AAA+++dock 3?: ?'B?+C?'??'UNT+4+1'UNZ+1+17'"
        );
        let back = read_edifact::read(written.as_bytes(), 10).unwrap();
        assert_eq!(back[0]["FTX"][0]["FTX04"], "dock 3: 'B+C'?");
        let latin = json!({"UNB": doc["UNB"], "UNH": doc["UNH"], "NAD": {"NAD01": "CN", "NAD04": "Müller"}});
        let error = edifact(&latin).unwrap_err();
        assert!(error.contains("NAD04: `Müller` holds 'ü'"), "{error}");
        let error = edifact(&json!({"UNH": doc["UNH"]})).unwrap_err();
        assert!(
            error.starts_with("body[0].UNB: missing; the interchange header"),
            "{error}"
        );
        let error = edifact(&json!({"UNB": doc["UNB"], "UNH": doc["UNH"], "BGM": {"BGM1": "x"}}))
            .unwrap_err();
        assert!(
            error.starts_with("body[0].BGM[0].BGM1: not an element of BGM"),
            "{error}"
        );
        let error = edifact(&json!({"UNB": doc["UNB"], "UNH": doc["UNH"], "bgm": {}})).unwrap_err();
        assert!(
            error.starts_with("body[0].bgm: not a segment tag"),
            "{error}"
        );
    }

    #[test]
    fn x12_pads_its_isa_and_refuses_a_separator_in_a_value() {
        let doc = json!({
            "ISA": {"ISA01": "00", "ISA03": "00", "ISA05": "ZZ", "ISA06": "FREIGHTGATE",
                    "ISA07": "02", "ISA08": "NRDL", "ISA09": "261206", "ISA10": "1200",
                    "ISA12": "00501", "ISA13": 42, "ISA14": "0", "ISA15": "P"},
            "GS": {"GS01": "QM", "GS02": "FREIGHTGATE", "GS03": "NRDL", "GS04": "20261206",
                   "GS05": "1200", "GS06": "42", "GS07": "X", "GS08": "005010"},
            "ST": {"ST01": "214", "ST02": "0001"},
            "B10": {"B1001": "PRO-1", "B1002": "SH-1", "B1003": "NRDL"},
        });
        let written = x12(&doc).unwrap();
        assert!(
            written.starts_with("ISA*00*          *00*          *ZZ*FREIGHTGATE    *02*NRDL           *261206*1200*^*00501*000000042*0*P*>~GS*QM*"),
            "{written}"
        );
        assert!(
            written.ends_with("B10*PRO-1*SH-1*NRDL~SE*3*0001~GE*1*42~IEA*1*000000042~"),
            "{written}"
        );
        let back = read_x12::read(written.as_bytes(), 10).unwrap();
        assert_eq!(back[0]["B10"][0]["B1001"], "PRO-1");
        let mut bad = doc.clone();
        bad["B10"]["B1001"] = json!("PRO*1");
        let error = x12(&bad).unwrap_err();
        assert!(
            error.contains("B1001: `PRO*1` holds the separator '*'"),
            "{error}"
        );
        let mut wide = doc.clone();
        wide["ISA"]["ISA06"] = json!("A-NAME-LONGER-THAN-15");
        let error = x12(&wide).unwrap_err();
        assert!(
            error.starts_with(
                "ISA06: `A-NAME-LONGER-THAN-15` is 21 characters, the element holds 15"
            ),
            "{error}"
        );
    }

    fn layout() -> Layout {
        let field =
            |name: &str, start: usize, width: usize| (name.to_string(), Columns { start, width });
        Layout {
            name: "test".into(),
            record_type: Some(Columns { start: 0, width: 3 }),
            records: vec![
                Record {
                    code: Some("ORD".into()),
                    under: None,
                    ignore: false,
                    fields: vec![field("order", 3, 10), field("customer", 13, 8)],
                },
                Record {
                    code: Some("LIN".into()),
                    under: Some("lines".into()),
                    ignore: false,
                    fields: vec![field("sku", 3, 8), field("quantity", 11, 5)],
                },
            ],
            encoding: encoding_rs::UTF_8,
        }
    }

    #[test]
    fn fixed_width_writes_what_the_reader_reads_and_cuts_nothing() {
        let layout = layout();
        let doc = json!([
            {"order": "NW-1", "customer": "Café", "lines": [{"sku": "KOF-1", "quantity": 24}, {"sku": "T", "quantity": -3}]},
            {"order": "NW-2", "lines": []}
        ]);
        let written = fixed_width(&layout, &doc).unwrap();
        assert_eq!(
            written,
            "ORDNW-1      Café\r\nLINKOF-1   00024\r\nLINT       -0003\r\nORDNW-2\r\n"
        );
        let read = crate::rules::formats::fixed::read(&written, &layout, 10).unwrap();
        let value = |i: usize| read[i].value.clone().unwrap();
        assert_eq!(value(0)["order"], "NW-1");
        assert_eq!(value(0)["customer"], "Café");
        assert_eq!(value(0)["lines"][1]["quantity"], "-0003");
        assert_eq!(value(1)["order"], "NW-2");
        let error = fixed_width(&layout, &json!({"order": "NW-12345678"})).unwrap_err();
        assert_eq!(
            error,
            "body[0].order: `NW-12345678` is 11 characters, its columns hold 10"
        );
        let error = fixed_width(&layout, &json!({"order": "NW-1", "city": "Utrecht"})).unwrap_err();
        assert!(
            error.starts_with("body[0].city: the layout's record ORD has no columns for `city`"),
            "{error}"
        );
    }
}
