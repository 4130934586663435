//! Fixed-width text read into the same document tree as JSON, by the layout a
//! rules file's `[[reader]]` declares (see `rules/README.md`, *Readers*):
//!
//! - each line is one record; its fields sit at fixed character columns (counted
//!   in characters, not bytes, from 1) and are read with the padding trimmed, as
//!   text (`""` when the columns are blank or past the end of the line);
//! - without a record type every line is a document of its own;
//! - with a record type (the columns that name it), a record without `under`
//!   starts a new document, a record with `under = "lines"` is appended to the
//!   current document's `lines` list, and an `ignore`d record (a file header or
//!   trailer) is skipped;
//! - blank lines are skipped; `\r\n` and `\n` both end a line.
//!
//! A line of a type the layout does not name, or a child record before any
//! document, makes the body unreadable (`400 malformed_fixed_width`, naming the
//! line): guessing where it belongs could attach lines to the wrong order.

use super::Document;
use serde_json::{Map, Value};

/// Characters from a 0-based `start`, `width` long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub start: usize,
    pub width: usize,
}

impl Columns {
    fn end(self) -> usize {
        self.start.saturating_add(self.width)
    }
}

/// One kind of line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The text in the layout's record-type columns that marks this kind.
    pub code: Option<String>,
    /// The list of the current document this record is appended to; `None` starts
    /// a new document.
    pub under: Option<String>,
    /// Skipped (a file header or trailer).
    pub ignore: bool,
    pub fields: Vec<(String, Columns)>,
}

/// A whole file's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The reader's name, for messages.
    pub name: String,
    /// Where the record type is; `None` when every line is `records[0]`.
    pub record_type: Option<Columns>,
    pub records: Vec<Record>,
    pub encoding: &'static encoding_rs::Encoding,
}

/// A line's characters, sliced by character columns in time linear in the line.
struct Line<'a> {
    text: &'a str,
    /// Byte offset of each character (only built for non-ASCII lines).
    offsets: Option<Vec<usize>>,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Self {
        let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        Line { text, offsets }
    }

    fn slice(&self, columns: Columns) -> &'a str {
        let (from, to) = match &self.offsets {
            None => {
                let len = self.text.len();
                (columns.start.min(len), columns.end().min(len))
            }
            Some(offsets) => {
                let at = |i: usize| offsets.get(i).copied().unwrap_or(self.text.len());
                (at(columns.start), at(columns.end()))
            }
        };
        self.text[from..to].trim()
    }
}

/// Reads `text` by `layout` into documents; more than `max` documents is
/// `Err(None)`, an unreadable line `Err(Some(why))`.
pub(crate) fn read(
    text: &str,
    layout: &Layout,
    max: usize,
) -> Result<Vec<Document>, Option<String>> {
    let mut documents: Vec<Document> = Vec::new();
    let mut current: Option<Map<String, Value>> = None;
    let mut location = String::new();
    let finish = |fields: Map<String, Value>, location: String, documents: &mut Vec<Document>| {
        documents.push(Document {
            index: documents.len(),
            location,
            value: Ok(Value::Object(fields)),
        });
    };
    for (number, line) in text.split('\n').enumerate() {
        let number = number + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let line = Line::new(line);
        let record = match layout.record_type {
            None => &layout.records[0],
            Some(columns) => {
                let code = line.slice(columns);
                layout
                    .records
                    .iter()
                    .find(|r| r.code.as_deref() == Some(code))
                    .ok_or_else(|| {
                        let known: Vec<&str> = layout
                            .records
                            .iter()
                            .filter_map(|r| r.code.as_deref())
                            .collect();
                        Some(format!(
                            "line {number}: record type `{}` is not one reader `{}` knows ({})",
                            code.chars().take(32).collect::<String>(),
                            layout.name,
                            known.join(", ")
                        ))
                    })?
            }
        };
        if record.ignore {
            continue;
        }
        let fields: Map<String, Value> = record
            .fields
            .iter()
            .map(|(name, columns)| (name.clone(), Value::String(line.slice(*columns).to_owned())))
            .collect();
        match &record.under {
            None => {
                if let Some(done) = current.take() {
                    finish(done, std::mem::take(&mut location), &mut documents);
                }
                if documents.len() >= max {
                    return Err(None);
                }
                current = Some(fields);
                location = format!("line {number}");
            }
            Some(list) => {
                let Some(parent) = current.as_mut() else {
                    return Err(Some(format!(
                        "line {number}: a `{}` record belongs under a document's `{list}`, but no document has begun",
                        record.code.as_deref().unwrap_or_default()
                    )));
                };
                let entry = parent
                    .entry(list.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                match entry {
                    Value::Array(items) => items.push(Value::Object(fields)),
                    _ => {
                        return Err(Some(format!(
                            "line {number}: `{list}` is already a field of the document, not a list"
                        )));
                    }
                }
            }
        }
    }
    if let Some(done) = current.take() {
        finish(done, location, &mut documents);
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cols(start: usize, width: usize) -> Columns {
        Columns { start, width }
    }

    fn order_layout() -> Layout {
        Layout {
            name: "flat".into(),
            record_type: Some(cols(0, 3)),
            records: vec![
                Record {
                    code: Some("FHD".into()),
                    under: None,
                    ignore: true,
                    fields: vec![],
                },
                Record {
                    code: Some("HDR".into()),
                    under: None,
                    ignore: false,
                    fields: vec![("order".into(), cols(3, 8)), ("city".into(), cols(11, 10))],
                },
                Record {
                    code: Some("LIN".into()),
                    under: Some("lines".into()),
                    ignore: false,
                    fields: vec![("sku".into(), cols(3, 6)), ("qty".into(), cols(9, 4))],
                },
            ],
            encoding: encoding_rs::UTF_8,
        }
    }

    #[test]
    fn headers_start_documents_and_lines_nest_under_them() {
        let text = "FHD20261205\r\nHDR4711    Den Haag  \nLINSKU-1 0004\nLINSKU-2   12\n\nHDR4712    Zürich\n";
        let docs = read(text, &order_layout(), 10).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].location, "line 2");
        assert_eq!(
            docs[0].value.as_ref().unwrap(),
            &serde_json::json!({"order": "4711", "city": "Den Haag", "lines": [
                {"sku": "SKU-1", "qty": "0004"}, {"sku": "SKU-2", "qty": "12"}]})
        );
        // Characters, not bytes: the ü does not shift the columns; a short line
        // reads blank fields past its end.
        assert_eq!(
            docs[1].value.as_ref().unwrap(),
            &serde_json::json!({"order": "4712", "city": "Zürich"})
        );
        assert_eq!(docs[1].location, "line 6");
    }

    #[test]
    fn unknown_types_and_orphan_lines_name_their_line() {
        let error = read("HDR1\nXYZ\n", &order_layout(), 10)
            .unwrap_err()
            .unwrap();
        assert!(error.starts_with("line 2: record type `XYZ`"), "{error}");
        assert!(error.contains("FHD, HDR, LIN"), "{error}");
        let error = read("LINSKU\n", &order_layout(), 10).unwrap_err().unwrap();
        assert!(error.contains("line 1: a `LIN` record"), "{error}");
        assert_eq!(
            read("HDR1\nHDR2\nHDR3\n", &order_layout(), 2).unwrap_err(),
            None
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text: a result or a reasoned refusal, never a panic, and never more
        /// documents than lines.
        #[test]
        fn any_text_reads_or_is_refused(text in "(?s).{0,400}") {
            let lines = text.split('\n').count();
            match read(&text, &order_layout(), usize::MAX) {
                Ok(docs) => prop_assert!(docs.len() <= lines),
                Err(why) => prop_assert!(why.is_some_and(|w| w.starts_with("line "))),
            }
            let single = Layout { record_type: None, records: vec![order_layout().records[1].clone()], ..order_layout() };
            let docs = read(&text, &single, usize::MAX).unwrap();
            prop_assert_eq!(docs.len(), text.split('\n').filter(|l| !l.trim().is_empty()).count());
        }
    }
}
