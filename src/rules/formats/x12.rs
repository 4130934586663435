//! ANSI ASC X12 interchanges read into one document per transaction set, ST … SE,
//! by the convention of [`super::edi`].
//!
//! - The ISA segment is fixed: 106 bytes, its elements exactly as wide as the
//!   standard sets them. The byte after `ISA` is the element separator, ISA16 (byte
//!   104) the component separator, byte 105 the segment terminator; line breaks
//!   after a terminator are not data. From version 00402 (ISA12) on, ISA11 is the
//!   repetition separator unless it is `U`. X12 has no release character.
//! - The character sets are ASCII-based; the body is read as UTF-8 and a byte that is
//!   not is refused with its offset.
//! - Each document holds `ISA` and `GS`, then `ST`, the transaction set's segments
//!   and `SE`: `$.ST[0].ST01` is `204`. ISA's fixed-width elements lose their
//!   trailing space padding (`ISA06` is `NLSHIP01`, not `NLSHIP01       `).
//! - Groups, by the transaction set identifier in ST01:
//!
//!   | set | level 1 | back to the top |
//!   |-----|---------|-----------------|
//!   | 204 | S5      | L3              |
//!   | 214 | LX      |                 |
//!   | 856 | HL      |                 |
//!
//!   So a 204 stop's ship-from name is `$.S5[0].N1[0].N102`; an 856's HL groups are
//!   flat, and HL03 says which level (S, O, T, P, I) each is.
//! - Checked: every ST sits in a GS … GE functional group; SE01 counts the segments
//!   from ST to SE and SE02 repeats ST02; GE01 counts the transaction sets and GE02
//!   repeats GS06; IEA01 counts the groups and IEA02 repeats ISA13; only blanks
//!   follow IEA. TA1 acknowledgments between groups are dropped.

use serde_json::Value;

use super::edi::{Charset, EdiError, Envelope, Groups, Scanner, Segment, Separators};

const ENVELOPE: Envelope = Envelope {
    interchange: ["ISA", "IEA"],
    group: ["GS", "GE"],
    message: ["ST", "SE"],
    references: [13, 6, 2],
    message_type: 1,
    words: ["transaction set", "functional group"],
    groups_required: true,
    ignored: &["TA1"],
    tables: &[
        ("204", Groups::new(&[("S5", 1)], &["L3"])),
        ("214", Groups::new(&[("LX", 1)], &[])),
        ("856", Groups::new(&[("HL", 1)], &[])),
    ],
};

/// How wide ISA01 … ISA16 are.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
/// The ISA with its terminator.
const ISA_LEN: usize = 106;

/// The documents of an X12 interchange, one per transaction set; more than
/// `max_documents` sets are refused as soon as the next one begins.
pub fn read(body: &[u8], max_documents: usize) -> Result<Vec<Value>, EdiError> {
    let start = super::edi::skip_blank(body, 0);
    let rest = &body[start..];
    if !rest.starts_with(b"ISA") {
        let seen = String::from_utf8_lossy(&rest[..rest.len().min(12)]);
        return Err(EdiError::NotInterchange(format!(
            "the body is not an X12 interchange: it begins with {seen:?}, not ISA"
        )));
    }
    let (isa, separators) = isa(rest, start)?;
    let mut scanner = Scanner::new(body, start + ISA_LEN, separators, Charset::Utf8);
    scanner.number = 1;
    scanner.tag_len = 2..=3;
    super::edi::read_interchange(scanner, isa, &ENVELOPE, max_documents)
}

/// The ISA segment at `start` and the separators it declares.
fn isa(rest: &[u8], start: usize) -> Result<(Segment, Separators), EdiError> {
    let at = format!("segment 1 (ISA) at byte {start}");
    let fault = |what: String| EdiError::Malformed(format!("{at} {what}"));
    let Some(isa) = rest.get(..ISA_LEN) else {
        return Err(fault(format!(
            "is cut short: it is {ISA_LEN} bytes, the body holds {}",
            rest.len()
        )));
    };
    if let Some(i) = isa.iter().position(|b| !b.is_ascii()) {
        let found = super::edi::show(isa[i]);
        return Err(EdiError::Encoding(format!(
            "{at}: byte {found} at byte {} is not ASCII",
            start + i
        )));
    }
    let fields: Vec<&[u8]> = isa[4..ISA_LEN - 1].split(|b| *b == isa[3]).collect();
    if let Some((n, (field, width))) = fields
        .iter()
        .zip(ISA_WIDTHS)
        .enumerate()
        .find(|(_, (f, w))| f.len() != *w)
    {
        let len = field.len();
        return Err(fault(format!(
            "is not the fixed {ISA_LEN}-byte layout: ISA{:02} has {len} characters, not {width}",
            n + 1
        )));
    }
    if fields.len() != ISA_WIDTHS.len() {
        return Err(fault(format!(
            "has {} elements, not 16 (its layout is fixed, {ISA_LEN} bytes)",
            fields.len()
        )));
    }
    let data = fields
        .iter()
        .enumerate()
        .filter(|(n, _)| ![10, 15].contains(n));
    if data
        .flat_map(|(_, f)| f.iter())
        .any(|b| *b < 0x20 || *b == 0x7F)
    {
        return Err(fault("holds a control character in an element".into()));
    }
    let repetition =
        (fields[11] >= b"00402".as_slice() && fields[10] != b"U").then_some(fields[10][0]);
    let separators = Separators {
        element: isa[3],
        component: isa[104],
        terminator: isa[105],
        release: None,
        repetition,
    };
    separators
        .check()
        .map_err(|e| fault(format!("declares its separators wrongly: {e}")))?;
    let values = fields.iter().zip(1..).filter_map(|(field, n)| {
        let value = String::from_utf8_lossy(field).trim_end().to_string();
        (!value.is_empty()).then_some(([n, 1, 1], value))
    });
    let (tag, values) = ("ISA".to_string(), values.collect());
    Ok((
        Segment {
            number: 1,
            offset: start,
            tag,
            values,
        },
        separators,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const T204: &[u8] = include_bytes!("../../../tests/feeds/x12-204.edi");
    const T214: &[u8] = include_bytes!("../../../tests/feeds/x12-214.edi");
    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261204*1030*^*00501*000000001*0*P*>~";

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

    /// An interchange of one group around transaction sets of `segments` each.
    fn interchange(sets: &[&[&str]]) -> Vec<u8> {
        let mut text = format!("{ISA}GS*QM*S*R*20261204*1030*7*X*005010~");
        for (n, segments) in sets.iter().enumerate() {
            text += &format!(
                "ST*214*{n:04}~{}SE*{}*{n:04}~",
                segments.join("~") + "~",
                segments.len() + 2
            );
        }
        (text + &format!("GE*{}*7~IEA*1*000000001~", sets.len())).into_bytes()
    }

    #[test]
    fn a_load_tender_reads_as_documented() {
        let doc = one(T204);
        assert_eq!(doc["ISA"][0]["ISA06"], "NLSHIP01");
        assert_eq!(
            doc["ISA"][0].get("ISA02"),
            None,
            "blank elements are absent"
        );
        assert_eq!(doc["GS"][0]["GS06"], "905");
        assert_eq!(doc["ST"][0], json!({"ST01": "204", "ST02": "0001"}));
        assert_eq!(doc["B2"][0]["B204"], "SH20261204001");
        assert_eq!(doc["B2A"][0]["B2A01"], "00");
        assert_eq!(doc["N1"][0]["N101"], "BT");
        let stops = doc["S5"].as_array().unwrap();
        assert_eq!(stops.len(), 2);
        assert_eq!(
            (&stops[0]["S502"], &stops[1]["S502"]),
            (&json!("CL"), &json!("CU"))
        );
        assert_eq!(stops[0]["G62"][0]["G6202"], "20261205");
        assert_eq!(stops[0]["N1"][0]["N102"], "Nordlicht Lighting Inc");
        assert_eq!(stops[0]["N3"][0]["N302"], "Dock 7");
        assert_eq!(stops[1]["N4"][0]["N401"], "Sacramento");
        assert_eq!(stops[1]["AT8"][1]["AT803"], "630");
        assert_eq!(doc["L3"][0]["L311"], "3", "L3 closes back to the top");
        assert!(stops[1].get("L3").is_none() && stops[1].get("SE").is_none());
        assert_eq!(doc["SE"][0]["SE01"], "32");
    }

    #[test]
    fn a_status_message_keeps_each_status_in_its_lx() {
        let doc = one(T214);
        assert_eq!(doc["B10"][0]["B1002"], "SH20261204001");
        let codes: Vec<_> = doc["LX"]
            .as_array()
            .unwrap()
            .iter()
            .map(|lx| lx["AT7"][0]["AT701"].clone())
            .collect();
        assert_eq!(codes, [json!("X3"), json!("AF"), json!("D1")]);
        assert_eq!(doc["LX"][2]["MS1"][0]["MS101"], "Sacramento");
        assert_eq!(doc["LX"][2]["AT8"][0]["AT803"], "1250.5");
        assert_eq!(doc["LX"][0]["AT7"][0]["AT705"], "20261205");
    }

    #[test]
    fn the_bad_sample_and_envelope_faults_name_the_segment() {
        let count = refused(include_bytes!(
            "../../../tests/feeds/bad/x12-204-wrong-count.edi"
        ));
        assert!(count.starts_with("segment 34 (SE) at byte 977 "), "{count}");
        assert!(
            count.ends_with("counts `34` segments, the transaction set has 32"),
            "{count}"
        );
        let text = String::from_utf8(interchange(&[&["B10*1*2*3"]])).unwrap();
        let ge = text.replace("GE*1*7", "GE*2*7");
        assert!(refused(ge.as_bytes()).contains(
            "segment 6 (GE) at byte 173 counts `2` transaction sets, the functional group has 1"
        ));
        let gs = text.replace("GE*1*7", "GE*1*8");
        assert!(
            refused(gs.as_bytes())
                .contains("names control reference `8`, segment 2 (GS) at byte 106 names `7`")
        );
        let iea = text.replace("IEA*1", "IEA*0");
        assert!(
            refused(iea.as_bytes()).contains("counts `0` functional groups, the interchange has 1")
        );
        let bare = format!("{ISA}ST*214*1~SE*2*1~IEA*0*000000001~");
        assert!(refused(bare.as_bytes()).contains("segment 2 (ST) at byte 106 begins a transaction set outside any functional group (GS … GE)"));
        let cut = &text[..text.find("SE*").unwrap()];
        assert!(
            refused(cut.as_bytes())
                .contains("the interchange ends inside transaction set 1 (no SE)")
        );
        let ta1 = text.replace("GS*", "TA1*000000001*261204*1030*A*000~GS*");
        assert_eq!(one(ta1.as_bytes())["ST"][0]["ST01"], "214");
    }

    #[test]
    fn the_isa_layout_sets_the_separators() {
        let narrow =
            String::from_utf8(interchange(&[]))
                .unwrap()
                .replacen("SENDER         ", "SENDER", 1);
        assert!(refused(narrow.as_bytes()).contains("ISA06 has 6 characters, not 15"));
        let short = &ISA[..50];
        assert!(refused(short.as_bytes()).contains("segment 1 (ISA) at byte 0 is cut short"));
        let pipes = String::from_utf8(interchange(&[&["L11*A^B>C*PO"]]))
            .unwrap()
            .replace('*', "|");
        assert_eq!(
            one(pipes.as_bytes())["L11"][0],
            json!({"L1101": "A", "L1101_r2": "B", "L1101_r2_2": "C", "L1102": "PO"})
        );
        let literal = pipes.replace("|^|00501|", "|U|00401|");
        assert_eq!(one(literal.as_bytes())["L11"][0]["L1101"], "A^B");
        let lines = String::from_utf8(interchange(&[&["B10*1*2*3"]]))
            .unwrap()
            .replace('~', "\n");
        assert_eq!(one(lines.as_bytes())["B10"][0]["B1003"], "3");
        let clash = ISA.replace("*>~", "*^~");
        assert!(refused(clash.as_bytes()).contains("`^` is declared as two separators"));
    }

    #[test]
    fn hostile_bodies_are_refused_with_offsets() {
        assert!(refused(b"").contains("not an X12 interchange"));
        assert!(refused(b"~~~~~~").contains("begins with \"~~~~~~\", not ISA"));
        let latin = interchange(&[&["MS1*M\u{fc}nchen*BY*DE"]]);
        let latin: Vec<u8> = latin.into_iter().filter(|b| *b != 0xC3).collect();
        assert!(refused(&latin).contains("segment 4 (MS1) at byte 153: invalid UTF-8 at byte 158"));
        let nul = interchange(&[&["MS1*a\0b"]]);
        assert!(
            refused(&nul)
                .contains("segment 4 (MS1) at byte 153 holds control character 0x00 at byte 158")
        );
        let mut endless = format!("{ISA}GS*").into_bytes();
        endless.resize(4 << 20, b'A');
        assert!(refused(&endless).contains("segment 2 at byte 106 runs past 65536 bytes"));
        let sets = vec!["AT7*X3"; 3];
        let many = interchange(&[&sets, &sets, &sets]);
        assert_eq!(read(&many, 2), Err(EdiError::TooMany { max: 2 }));
        assert_eq!(read(&many, 3).unwrap().len(), 3);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read(&body, 5);
            let _ = read(&[ISA.as_bytes(), b"GS*QM*S*R*1*1*7*X*1~ST*214*1~", &body[..]].concat(), 5);
        }

        #[test]
        fn a_sample_with_a_byte_changed_never_panics(at in any::<usize>(), byte in any::<u8>(), sample in 0..2usize) {
            let mut body = [T204, T214][sample].to_vec();
            let at = at % body.len();
            body[at] = byte;
            let _ = read(&body, 5);
        }

        #[test]
        fn truncations_of_the_samples_are_refused(cut in 0..T204.len(), sample in 0..2usize) {
            let body = [T204, T214][sample];
            let cut = cut.min(body.len() - 1);
            prop_assert_eq!(read(&body[..cut], 5).is_ok(), cut >= body.len() - 2);
        }

        #[test]
        fn values_round_trip(values in proptest::collection::vec("[ -)+-=?-\\]_-}]{1,8}", 1..8)) {
            let segment = format!("MS2*{}", values.join("*"));
            let doc = one(&interchange(&[&[&segment]]));
            for (n, value) in values.iter().enumerate() {
                prop_assert_eq!(&doc["MS2"][0][format!("MS2{:02}", n + 1)], value);
            }
        }
    }
}
