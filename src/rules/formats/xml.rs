//! XML read into the same document tree as JSON, by one documented convention:
//!
//! - the root element is the one top-level key: `<Order>…</Order>` is
//!   `{"Order": …}`;
//! - an element with only text is that text; an empty element is `""`;
//! - attributes are keys with `@` (`"@id"`), text beside attributes or child
//!   elements is `"#text"`;
//! - a child element that occurs once is an object (or text), one that repeats is
//!   an array in document order, so `$.Order.Lines.Line[*]` reads one `<Line>` and
//!   several alike;
//! - names keep their prefix as written (`ns:Order`); comments, processing
//!   instructions and the declaration are dropped; whitespace around text is trimmed.
//!
//! A DOCTYPE is refused: no DTD is read, so no entity is ever expanded or fetched
//! (no billion laughs, no external entities). Elements nest at most [`MAX_DEPTH`] deep.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

/// How deep elements may nest.
pub const MAX_DEPTH: usize = 128;

struct Open {
    name: String,
    fields: Map<String, Value>,
    text: String,
}

/// The document an XML text reads as, or why it cannot be read.
pub(super) fn read(text: &str) -> Result<Value, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Value> = None;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            format!(
                "the XML cannot be read at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() && stack.is_empty() => {
                return Err(format!(
                    "a second root element at byte {at}: an XML document has one"
                ));
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "elements nest more than {MAX_DEPTH} deep at byte {at}"
                    ));
                }
                stack.push(open(&e)?);
            }
            Event::Empty(e) => {
                let element = open(&e)?;
                close(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("an end tag without its start tag")?;
                close(element, &mut stack, &mut root);
            }
            Event::Text(t) => text_into(&mut stack, &t.xml10_content(), at)?,
            Event::CData(c) => text_into(&mut stack, &c.xml10_content(), at)?,
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| {
                            format!(
                                "the entity `&{};` at byte {at} is not defined (no DTD is read)",
                                &*r
                            )
                        })?
                        .to_string(),
                    Err(e) => return Err(format!("a character reference at byte {at}: {e}")),
                };
                text_into(&mut stack, &resolved, at)?;
            }
            Event::DocType(_) => {
                return Err(
                    "a DOCTYPE is not accepted: no DTD is read, so entities are never expanded or fetched"
                        .into(),
                );
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("the document ends inside <{}>", open.name));
    }
    root.ok_or_else(|| "the document has no root element".into())
}

fn open(e: &BytesStart<'_>) -> Result<Open, String> {
    let name = e.name().as_ref().to_string();
    let mut fields = Map::new();
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|err| format!("an attribute of <{name}>: {err}"))?;
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| format!("an attribute of <{name}>: {err}"))?;
        fields.insert(
            format!("@{}", attribute.key.as_ref()),
            Value::String(value.into_owned()),
        );
    }
    Ok(Open {
        name,
        fields,
        text: String::new(),
    })
}

fn text_into(stack: &mut [Open], text: &str, at: u64) -> Result<(), String> {
    match stack.last_mut() {
        Some(open) => {
            open.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(format!("text outside the root element at byte {at}")),
    }
}

fn close(element: Open, stack: &mut [Open], root: &mut Option<Value>) {
    let Open {
        name,
        mut fields,
        text,
    } = element;
    let text = text.trim();
    let value = if fields.is_empty() {
        Value::String(text.to_string())
    } else {
        if !text.is_empty() {
            fields.insert("#text".into(), Value::String(text.to_string()));
        }
        Value::Object(fields)
    };
    match stack.last_mut() {
        Some(parent) => match parent.fields.get_mut(&name) {
            // An element's own value is never an array: an array is a repeated child.
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                parent.fields.insert(name, value);
            }
        },
        None => {
            let mut document = Map::new();
            document.insert(name, value);
            *root = Some(Value::Object(document));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_attributes_and_repeated_children_read_as_documented() {
        let order = r#"<?xml version="1.0"?>
            <!-- exported by the ERP -->
            <Order id="SO-1" xmlns="urn:example">
              <Customer>Hendriks &amp; Zn</Customer>
              <Note><![CDATA[<fragile>]]></Note>
              <Empty/>
              <Lines>
                <Line no="1"><Sku>A</Sku><Qty unit="CASE">2</Qty></Line>
                <Line no="2"><Sku>B&#x20;C</Sku><Qty>1</Qty></Line>
              </Lines>
            </Order>"#;
        assert_eq!(
            read(order).unwrap(),
            json!({"Order": {
                "@id": "SO-1",
                "@xmlns": "urn:example",
                "Customer": "Hendriks & Zn",
                "Note": "<fragile>",
                "Empty": "",
                "Lines": {"Line": [
                    {"@no": "1", "Sku": "A", "Qty": {"@unit": "CASE", "#text": "2"}},
                    {"@no": "2", "Sku": "B C", "Qty": "1"}
                ]}
            }})
        );
        let single = "<Order><Lines><Line><Sku>A</Sku></Line></Lines></Order>";
        assert_eq!(
            read(single).unwrap(),
            json!({"Order": {"Lines": {"Line": {"Sku": "A"}}}})
        );
    }

    #[test]
    fn no_dtd_is_read_so_no_entity_expands_or_is_fetched() {
        let laughs = r#"<?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
            <lolz>&lol2;</lolz>"#;
        assert!(read(laughs).unwrap_err().contains("DOCTYPE"));
        let external =
            r#"<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>"#;
        assert!(read(external).unwrap_err().contains("DOCTYPE"));
        assert!(
            read("<foo>&xxe;</foo>")
                .unwrap_err()
                .contains("not defined")
        );
    }

    #[test]
    fn broken_or_hostile_documents_are_refused_with_where() {
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert!(read(&deep).unwrap_err().contains("more than 128 deep"));
        assert!(read("<a><b></a>").is_err());
        assert!(read("<a>").unwrap_err().contains("ends inside <a>"));
        assert!(read("<a/><b/>").unwrap_err().contains("second root"));
        assert!(read("text <a/>").unwrap_err().contains("outside the root"));
        assert!(read("<a x='1' x='2'/>").is_err());
        assert!(
            read("<!-- nothing -->")
                .unwrap_err()
                .contains("no root element")
        );
    }
}
