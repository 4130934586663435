//! UN/EDIFACT interchanges (ISO 9735) read into one document per message, UNH …
//! UNT, by the convention of [`super::edi`].
//!
//! - An optional UNA service string advice names the separators in six characters:
//!   component, element, decimal mark, release (a space: none), repetition,
//!   segment terminator. Without it they are `:+.? '` with repetition `*`, or IS1,
//!   IS3 and IS4 (0x1F, 0x1D, 0x1C) without release character when UNB is followed
//!   by IS3 (syntax level B). The repetition separator is read in syntax version 4
//!   (UNB01_2) only: before it that character was reserved. Blanks and line breaks
//!   between segments are not data; decimal marks are left as sent.
//! - The syntax identifier (UNB01) names the character set: UNOA and UNOB are
//!   ASCII, UNOC is ISO 8859-1 (each byte its own code point), UNOW and UNOY are
//!   UTF-8; any other is refused. The body is split on the separator bytes first,
//!   then each value is decoded.
//! - Each document holds `UNB` (and `UNG` when the message sits in a functional
//!   group), then `UNH`, the message's segments and `UNT`: `$.UNH[0].UNH02` is
//!   `IFTMIN`.
//! - Groups, by the message type in UNH02:
//!
//!   | type   | level 1    | level 2 | back to the top |
//!   |--------|------------|---------|-----------------|
//!   | IFTMIN | GID, EQD   |         |                 |
//!   | IFTSTA | CNI        | STS     |                 |
//!   | DESADV | CPS        | LIN     | CNT             |
//!
//!   So an IFTMIN goods item's weight is `$.GID[0].MEA[0].MEA03_2`.
//! - Checked: UNB comes first; each UNH has its UNT, whose UNT01 counts the
//!   segments from UNH to UNT and whose UNT02 repeats UNH01; UNG … UNE groups
//!   likewise (UNE01 counts messages, UNE02 repeats UNG05); UNZ01 counts the
//!   messages (the groups, when there are any), UNZ02 repeats UNB05; only blanks
//!   follow UNZ.

use serde_json::Value;

use super::edi::{Charset, EdiError, Envelope, Groups, Scanner, Segment, Separators};

const ENVELOPE: Envelope = Envelope {
    interchange: ["UNB", "UNZ"],
    group: ["UNG", "UNE"],
    message: ["UNH", "UNT"],
    references: [5, 5, 1],
    message_type: 2,
    words: ["message", "group"],
    groups_required: false,
    ignored: &[],
    tables: &[
        ("IFTMIN", Groups::new(&[("GID", 1), ("EQD", 1)], &[])),
        ("IFTSTA", Groups::new(&[("CNI", 1), ("STS", 2)], &[])),
        ("DESADV", Groups::new(&[("CPS", 1), ("LIN", 2)], &["CNT"])),
    ],
};

/// Level A's separators, which apply without UNA.
const LEVEL_A: Separators = Separators {
    element: b'+',
    component: b':',
    terminator: b'\'',
    release: Some(b'?'),
    repetition: None,
};

/// Level B's information separators, which apply without UNA when UNB is followed by IS3.
const LEVEL_B: Separators = Separators {
    element: 0x1D,
    component: 0x1F,
    terminator: 0x1C,
    release: None,
    repetition: None,
};

/// The documents of an EDIFACT interchange, one per message; more than
/// `max_documents` messages are refused as soon as the next one begins.
pub fn read(body: &[u8], max_documents: usize) -> Result<Vec<Value>, EdiError> {
    let start = super::edi::skip_blank(body, 0);
    let rest = &body[start..];
    let (separators, version_4_repetition, from) = if rest.starts_with(b"UNA") {
        una(rest, start)?
    } else if rest.starts_with(b"UNB") {
        match rest.get(3) {
            Some(b'+') => (LEVEL_A, Some(b'*'), start),
            Some(0x1D) => (LEVEL_B, None, start),
            other => {
                let found = other.map_or("nothing".into(), |b| super::edi::show(*b));
                let at = start + 3;
                return Err(EdiError::Malformed(format!(
                    "segment 1 (UNB) at byte {start} is followed by {found} at byte {at}: without UNA the element separator is `+` (or IS3 for syntax level B)"
                )));
            }
        }
    } else {
        let seen = String::from_utf8_lossy(&rest[..rest.len().min(12)]);
        return Err(EdiError::NotInterchange(format!(
            "the body is not a UN/EDIFACT interchange: it begins with {seen:?}, not UNA or UNB"
        )));
    };
    let mut scanner = Scanner::new(body, from, separators, Charset::Latin1);
    let unb = scanner.segment()?.ok_or_else(|| {
        EdiError::Malformed(format!(
            "the interchange ends after UNA, at byte {}: no UNB follows",
            body.len()
        ))
    })?;
    if unb.tag != "UNB" {
        return Err(EdiError::Malformed(format!(
            "{}: an interchange begins with UNB",
            unb.at()
        )));
    }
    scanner.charset = charset(&unb)?;
    if unb.value(1, 2) == "4" {
        scanner.separators.repetition = version_4_repetition;
        scanner.separators.check().map_err(|e| {
            let at = unb.at();
            EdiError::Malformed(format!(
                "{at} declares syntax version 4, with a repetition separator: {e}"
            ))
        })?;
    }
    let unb = scanner.reread(&unb)?.unwrap_or(unb);
    super::edi::read_interchange(scanner, unb, &ENVELOPE, max_documents)
}

/// The separators a UNA names, its repetition separator (for syntax version 4) and
/// where UNB begins.
fn una(rest: &[u8], start: usize) -> Result<(Separators, Option<u8>, usize), EdiError> {
    let advice: [u8; 6] = rest
        .get(3..9)
        .and_then(|advice| advice.try_into().ok())
        .ok_or_else(|| {
            EdiError::Malformed(format!(
                "the UNA service string advice at byte {start} is cut short: it takes six characters after UNA"
            ))
        })?;
    let [
        component,
        element,
        _decimal,
        release,
        repetition,
        terminator,
    ] = advice;
    let release = Some(release).filter(|b| *b != b' ');
    let separators = Separators {
        element,
        component,
        terminator,
        release,
        repetition: None,
    };
    let advice = |e| {
        EdiError::Malformed(format!(
            "the UNA service string advice at byte {start}: {e}"
        ))
    };
    separators.check().map_err(advice)?;
    Ok((
        separators,
        Some(repetition).filter(|b| *b != b' '),
        start + 9,
    ))
}

/// The character set UNB01 names.
fn charset(unb: &Segment) -> Result<Charset, EdiError> {
    match unb.value(1, 1) {
        "UNOA" | "UNOB" => Ok(Charset::Ascii),
        "UNOC" => Ok(Charset::Latin1),
        "UNOW" | "UNOY" => Ok(Charset::Utf8),
        "" => Err(EdiError::Malformed(format!(
            "{} names no syntax identifier (UNB01)",
            unb.at()
        ))),
        other => Err(EdiError::Encoding(format!(
            "{} names syntax identifier `{other}`; freightgate reads UNOA and UNOB (ASCII), UNOC (ISO 8859-1), UNOW and UNOY (UTF-8)",
            unb.at()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const IFTMIN: &[u8] = include_bytes!("../../../tests/feeds/iftmin.edi");
    const IFTSTA: &[u8] = include_bytes!("../../../tests/feeds/iftsta.edi");

    fn one(body: &[u8]) -> Value {
        let mut docs = read(body, 10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    fn refused(body: &[u8]) -> String {
        read(body, 10)
            .map(|d| panic!("read: {d:?}"))
            .unwrap_err()
            .to_string()
    }

    /// An interchange in `syntax` around one message of `segments`, with a right UNT and UNZ.
    fn interchange(syntax: &str, segments: &[&str]) -> Vec<u8> {
        let unt = format!("UNT+{}+M1'", segments.len() + 2);
        let mut text =
            format!("UNB+{syntax}+S+R+261204:1030+IC1'UNH+M1+ORDERS:D:96A:UN'").into_bytes();
        for s in segments
            .iter()
            .map(|s| s.as_bytes())
            .chain([unt.as_bytes(), b"UNZ+1+IC1'"])
        {
            text.extend_from_slice(s);
        }
        text
    }

    #[test]
    fn an_iftmin_reads_as_documented() {
        let doc = one(IFTMIN);
        assert_eq!(doc["UNB"][0]["UNB01"], "UNOC");
        assert_eq!(doc["UNH"][0]["UNH02"], "IFTMIN");
        assert_eq!(doc["UNT"][0], json!({"UNT01": "32", "UNT02": "1"}));
        assert_eq!(doc["BGM"][0]["BGM02"], "CNS20261204001");
        assert_eq!(
            doc["DTM"][0],
            json!({"DTM01": "137", "DTM01_2": "202612041030", "DTM01_3": "203"})
        );
        assert_eq!(
            doc["FTX"][0]["FTX04"],
            "Goods-in door 4: call 30 min ahead on +49 89 5550123"
        );
        let consignee = &doc["NAD"][1];
        assert_eq!(consignee["NAD01"], "CN");
        assert_eq!(consignee["NAD04"], "Müller Bürobedarf GmbH");
        assert_eq!(consignee["NAD06"], "München");
        assert_eq!(
            consignee.get("NAD02_2"),
            None,
            "empty components are absent"
        );
        let items = doc["GID"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0]["MEA"][0],
            json!({"MEA01": "WT", "MEA02": "G", "MEA03": "KGM", "MEA03_2": "620.5"})
        );
        assert_eq!(items[0]["GIN"][1]["GIN02"], "340123450000000024");
        assert_eq!(items[1]["PIA"][0]["PIA02"], "CHAIR-88");
        assert_eq!(items[1]["MEA"][0]["MEA03_2"], "630");
        assert!(doc.get("MEA").is_none() && doc.get("GIN").is_none());
    }

    #[test]
    fn an_iftsta_nests_its_status_events_in_the_consignment() {
        let doc = one(IFTSTA);
        let consignment = &doc["CNI"][0];
        assert_eq!(consignment["CNI02"], "CNS20261204001");
        assert_eq!(consignment["LOC"][0]["LOC02"], "DEMUC");
        let events = consignment["STS"].as_array().unwrap();
        let codes: Vec<_> = events
            .iter()
            .map(|e| e["STS02"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["1", "21"]);
        assert_eq!(events[1]["DTM"][0]["DTM01_2"], "202612060911");
        assert_eq!(events[1]["FTX"][0]["FTX04"], "Signed by: S. Müller");
        assert_eq!(events[0]["LOC"][0]["LOC02_4"], "Hamburg");
    }

    #[test]
    fn the_bad_samples_are_refused_saying_where() {
        let truncated = refused(include_bytes!(
            "../../../tests/feeds/bad/iftmin-truncated.edi"
        ));
        assert!(
            truncated.starts_with("the interchange ends inside message 1 (no UNT)"),
            "{truncated}"
        );
        assert!(
            truncated.contains("begins at segment 2 (UNH) at byte 88"),
            "{truncated}"
        );
        let count = refused(include_bytes!(
            "../../../tests/feeds/bad/iftmin-wrong-count.edi"
        ));
        assert!(
            count.starts_with("segment 33 (UNT) at byte 1005 "),
            "{count}"
        );
        assert!(
            count.ends_with("counts `31` segments, the message has 32"),
            "{count}"
        );
    }

    #[test]
    fn envelope_faults_name_the_segment() {
        let mut two = interchange("UNOC:3", &[]);
        two.extend_from_slice(b"\nX");
        assert!(refused(&two).contains("bytes follow UNZ at byte"));
        let bad_ref = String::from_utf8(interchange("UNOC:3", &[]))
            .unwrap()
            .replace("UNT+2+M1", "UNT+2+M2");
        assert!(refused(bad_ref.as_bytes()).contains("segment 3 (UNT) at byte 54 names control reference `M2`, segment 2 (UNH) at byte 31 names `M1`"));
        let unz = String::from_utf8(interchange("UNOC:3", &[]))
            .unwrap()
            .replace("UNZ+1", "UNZ+2");
        assert!(refused(unz.as_bytes()).contains("counts `2` messages, the interchange has 1"));
        assert!(
            refused(b"UNB+UNOC:3+S+R+1+IC1'BGM+1'")
                .contains("segment 2 (BGM) at byte 21 lies outside any message (UNH … UNT)")
        );
        assert!(refused(b"UNB+UNOC:3+S+R+1+IC1'").contains("ends without UNZ"));
        assert!(refused(b"UNB+UNOC:3+S+R+1+IC1'UNH+1+X'UNH+2+X'").contains("segment 3 (UNH) at byte 29 lies inside message 1, begun by segment 2 (UNH) at byte 21, which has no UNT"));
        assert!(
            refused(b"UNB+UNOC:3+S+R+1+IC1'UNH+1+X'BGM+1")
                .contains("the body ends inside segment 3")
        );
        let groups =
            b"UNB+UNOC:3+S+R+1+IC1'UNG+IFTMIN+S+R+1+G1'UNH+1+IFTMIN'UNT+2+1'UNE+1+G1'UNZ+1+IC1'";
        assert_eq!(one(groups)["UNG"][0]["UNG05"], "G1");
        let une = String::from_utf8(groups.to_vec())
            .unwrap()
            .replace("UNE+1", "UNE+3");
        assert!(
            refused(une.as_bytes())
                .contains("segment 5 (UNE) at byte 62 counts `3` messages, the group has 1")
        );
    }

    #[test]
    fn the_syntax_identifier_chooses_the_character_set() {
        let latin = interchange("UNOC:3", &["NAD+CN+++M\u{fc}ller'"]);
        let latin: Vec<u8> = String::from_utf8(latin)
            .unwrap()
            .chars()
            .map(|c| c as u8)
            .collect();
        assert_eq!(one(&latin)["NAD"][0]["NAD04"], "Müller");
        let ascii = [b"UNB+UNOA", &latin[8..]].concat();
        assert!(
            refused(&ascii)
                .contains("segment 3 (NAD) at byte 54: byte 0xFC at byte 64 is not ASCII")
        );
        assert_eq!(
            one(&interchange("UNOY:4", &["NAD+CN+++Müller'"]))["NAD"][0]["NAD04"],
            "Müller"
        );
        let broken: Vec<u8> = interchange("UNOW:4", &["NAD+CN+++M\u{fc}ller'"])
            .into_iter()
            .filter(|b| *b != 0xC3)
            .collect();
        assert!(refused(&broken).contains("segment 3 (NAD) at byte 54: invalid UTF-8 at byte 64"));
        assert!(
            refused(&interchange("UNOD:3", &[]))
                .contains("syntax identifier `UNOD`; freightgate reads UNOA")
        );
        let euro: Vec<u8> = latin
            .iter()
            .map(|&b| if b == 0xFC { 0x80 } else { b })
            .collect();
        assert!(refused(&euro).contains("is the body Windows-1252?"));
    }

    #[test]
    fn una_separators_release_characters_and_repetitions_are_honoured() {
        let body = b"UNA|*,# \"UNB*UNOC|3*S*R*1*IC1\"\r\nUNH*1*X\"FTX*AAA***a#*b#\"c|d\"UNT*3*1\"UNZ*1*IC1\"\n";
        let doc = one(body);
        assert_eq!(
            doc["FTX"][0],
            json!({"FTX01": "AAA", "FTX04": "a*b\"c", "FTX04_2": "d"})
        );
        let v4 = interchange("UNOC:4", &["FTX+AAA+A:1*B:2'"]);
        assert_eq!(
            one(&v4)["FTX"][0],
            json!({"FTX01": "AAA", "FTX02": "A", "FTX02_2": "1", "FTX02_r2": "B", "FTX02_r2_2": "2"})
        );
        let level_b = b"UNB\x1dUNOB\x1f3\x1dS\x1dR\x1d1\x1dIC1\x1cUNH\x1d1\x1dX\x1cUNT\x1d2\x1d1\x1cUNZ\x1d1\x1dIC1\x1c";
        assert_eq!(one(level_b)["UNB"][0]["UNB01_2"], "3");
        assert!(
            refused(b"UNA:+.?").contains("the UNA service string advice at byte 0 is cut short")
        );
        assert!(refused(b"UNA:::? 'UNB").contains("`:` is declared as two separators"));
    }

    #[test]
    fn hostile_bodies_are_refused_quickly_and_without_panicking() {
        for (body, expected) in [
            (&b""[..], "not a UN/EDIFACT interchange"),
            (b"{\"a\": 1}", "begins with \"{\\\"a\\\": 1}\""),
            (b"''''''''", "not a UN/EDIFACT"),
            (b"UNB'''''", "is followed by `'`"),
            (
                b"UNA:+.? ''''",
                "segment 1 at byte 9 does not begin with a segment tag",
            ),
        ] {
            assert!(
                refused(body).contains(expected),
                "{body:?}: {}",
                refused(body)
            );
        }
        let nul = interchange("UNOC:3", &["FTX+AAA+++a\0b'"]);
        assert!(
            refused(&nul)
                .contains("segment 3 (FTX) at byte 54 holds control character 0x00 at byte 65")
        );
        let mut endless = b"UNB+UNOC:3+S+R+1+IC1'UNH+1+X'FTX+".to_vec();
        endless.resize(4 << 20, b'A');
        assert!(refused(&endless).contains("segment 3 at byte 29 runs past 65536 bytes"));
        let wide = interchange("UNOC:3", &[&format!("FTX{}'", "+".repeat(100))]);
        assert!(refused(&wide).contains("has more than 99 elements"));
        let deep = interchange("UNOC:3", &[&format!("FTX+{}'", ":".repeat(1000))]);
        assert!(refused(&deep).contains("more than 99 components"));
    }

    #[test]
    fn more_messages_than_the_cap_are_refused_while_reading() {
        let mut body = b"UNB+UNOC:3+S+R+1+IC1'".to_vec();
        for n in 1..=3 {
            body.extend_from_slice(format!("UNH+{n}+IFTMIN'BGM+610+C{n}'UNT+3+{n}'").as_bytes());
        }
        body.extend_from_slice(b"UNZ+3+IC1'");
        assert_eq!(read(&body, 3).unwrap()[2]["BGM"][0]["BGM02"], "C3");
        assert_eq!(read(&body, 2), Err(EdiError::TooMany { max: 2 }));
        body.truncate(body.len() - 10);
        body.extend_from_slice(b"UNH+4+X'");
        assert_eq!(read(&body, 3), Err(EdiError::TooMany { max: 3 }));
        // A wide UNB copied into many tiny messages would multiply; it is refused.
        let mut body = format!("UNB+UNOC:3+S+R+1+IC1+{}'", "A:".repeat(98)).into_bytes();
        body.extend(b"UNH+1+X'UNT+2+1'".repeat(20));
        let error = read(&body, 100).unwrap_err().to_string();
        assert!(
            error.contains("segment 6 (UNH) at byte 250 begins message 3: one more copy of the envelope headers (104 values)"),
            "{error}"
        );
    }

    /// A value as a sender escapes it.
    fn escaped(value: &str) -> String {
        value
            .chars()
            .flat_map(|c| {
                if "+:'?".contains(c) {
                    vec!['?', c]
                } else {
                    vec![c]
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read(&body, 5);
            let _ = read(&[b"UNA:+.? 'UNB+UNOC:3+S+R+1+1'UNH+1+IFTMIN'", &body[..]].concat(), 5);
        }

        #[test]
        fn a_sample_with_a_byte_changed_never_panics(at in any::<usize>(), byte in any::<u8>(), sample in 0..2usize) {
            let mut body = [IFTMIN, IFTSTA][sample].to_vec();
            let at = at % body.len();
            body[at] = byte;
            let _ = read(&body, 5);
        }

        #[test]
        fn truncations_of_the_samples_are_refused(cut in 0..IFTMIN.len(), sample in 0..2usize) {
            let body = [IFTMIN, IFTSTA][sample];
            let cut = cut.min(body.len() - 1);
            // Only the trailing line break may go.
            prop_assert_eq!(read(&body[..cut], 5).is_ok(), cut >= body.len() - 2);
        }

        #[test]
        fn values_round_trip(values in proptest::collection::vec(proptest::collection::vec("[ -~äöüß]{0,6}", 1..4), 1..6)) {
            let segments: Vec<String> = values
                .iter()
                .map(|v| format!("FTX+{}'", v.iter().map(|c| escaped(c)).collect::<Vec<_>>().join(":")))
                .collect();
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            let doc = one(&interchange("UNOW:3", &segments));
            for (segment, components) in doc["FTX"].as_array().unwrap().iter().zip(&values) {
                let expected: serde_json::Map<String, Value> = components
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(i, c)| (if i == 0 { "FTX01".into() } else { format!("FTX01_{}", i + 1) }, json!(c)))
                    .collect();
                prop_assert_eq!(segment.as_object().unwrap(), &expected);
            }
        }
    }
}
