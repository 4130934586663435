//! What UN/EDIFACT ([`super::edifact`]) and ANSI X12 ([`super::x12`]) share: segments
//! split on single-byte separators, an envelope of control counts, and one document
//! tree per message (EDIFACT UNH … UNT, X12 ST … SE) by this convention:
//!
//! - Every segment tag is a key whose value is always a list of segments in the
//!   order sent, even when the tag occurs once: `$.BGM[0]`.
//! - A segment is an object. Its elements are keys named tag + two-digit position:
//!   `BGM01`, `BGM02`, … (X12 alike: `B204`, `N101`). An element's first (or only)
//!   component is that key's string; a composite's further components are `TAGnn_2`,
//!   `TAGnn_3`, …: `DTM+137:202612041030:203'` is
//!   `{"DTM01": "137", "DTM01_2": "202612041030", "DTM01_3": "203"}`.
//! - Where a repetition separator is declared (EDIFACT syntax version 4, X12 00402
//!   and later), an element's first repetition is named as above and its k-th is
//!   `TAGnn_rk`, `TAGnn_rk_2`, …: `FTX+AAA+A:1*B:2` reads `FTX02` `A`, `FTX02_2` `1`,
//!   `FTX02_r2` `B`, `FTX02_r2_2` `2`.
//! - Values are strings as sent, release characters removed (numbers keep their
//!   decimal mark). An empty element or component is no key: absent means nothing
//!   was sent.
//! - Segment groups: each message type has a table of the tags that open a group and
//!   at which level, 1 or 2. A group-opening segment's object also holds the
//!   segments after it, keyed by tag as above, until a segment that opens a group at
//!   the same or a higher level (1 is higher), or one the table lists as closing back
//!   to the top (the message trailer always does). A level-2 group sits in the open
//!   level-1 group, or at the top when none is open. Segments before the first group
//!   stay at the top; a message type without a table is flat.
//! - Each document also carries its envelope's headers at the top, before the
//!   message header: EDIFACT's `UNB` (and `UNG` inside a group), X12's `ISA` and `GS`.
//!   The envelope's trailers are checked, not carried.
//!
//! Errors name the segment by its number, counted from 1 at the interchange header
//! (UNB or ISA; a UNA is not a segment), its tag and its byte offset in the body.
//!
//! Caps: a segment holds at most [`MAX_SEGMENT_BYTES`] bytes, and at most
//! [`MAX_PARTS`] elements, components per element and repetitions per element (two
//! digits name them). Control characters other than TAB are refused inside values,
//! so is a line break inside a segment. Segments are read one at a time and the
//! trees built as they come, no more than `max_documents` of them. The documents'
//! copies of the envelope headers together hold at most one value per two bytes of
//! the body (a message can hold no more), so messages far smaller than their
//! envelope are refused rather than multiplied: a hostile body costs time and memory
//! linear in its length.

use serde_json::{Map, Value};

/// How long a segment may be, terminator excluded.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024;
/// How many elements a segment, components an element, repetitions an element may have.
pub const MAX_PARTS: usize = 99;

/// Why an interchange cannot be read; each message says what is wrong and where
/// (segment number from 1 at the start of the interchange, and byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdiError {
    /// The body is not an interchange of the format at all.
    NotInterchange(String),
    /// Bytes that are not text in the interchange's character set, or a set not read.
    Encoding(String),
    /// Separators, segments, envelope, counts, control references or caps.
    Malformed(String),
    /// More messages (transaction sets) than `max`.
    TooMany { max: usize },
}

impl std::fmt::Display for EdiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EdiError::NotInterchange(m) | EdiError::Encoding(m) | EdiError::Malformed(m) => {
                f.write_str(m)
            }
            EdiError::TooMany { max } => write!(f, "more than {max} documents"),
        }
    }
}

impl std::error::Error for EdiError {}

fn malformed(message: String) -> EdiError {
    EdiError::Malformed(message)
}

/// The character set values are decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Ascii,
    /// ISO 8859-1: each byte is the code point of the same number.
    Latin1,
    Utf8,
}

impl Charset {
    /// Where `raw`, found at byte `at`, is not text in this set.
    fn check(self, raw: &[u8], at: usize) -> Result<(), String> {
        let (bad, what) = match self {
            Charset::Utf8 => {
                let bad = std::str::from_utf8(raw).err();
                return bad.map_or(Ok(()), |e| {
                    Err(format!("invalid UTF-8 at byte {}", at + e.valid_up_to()))
                });
            }
            Charset::Ascii => (raw.iter().position(|b| !b.is_ascii()), "is not ASCII"),
            // C1 controls are not text: they are what Windows-1252 sent as Latin-1 looks like.
            Charset::Latin1 => (
                raw.iter().position(|b| (0x80..0xA0).contains(b)),
                "is a control character in ISO 8859-1 (is the body Windows-1252?)",
            ),
        };
        bad.map_or(Ok(()), |i| {
            Err(format!("byte 0x{:02X} at byte {} {what}", raw[i], at + i))
        })
    }

    /// Bytes already checked: separators are ASCII, so a UTF-8 value is never cut.
    fn decode(self, bytes: Vec<u8>) -> String {
        match String::from_utf8(bytes) {
            Ok(text) if self != Charset::Latin1 || text.is_ascii() => text,
            Ok(text) => text.into_bytes().into_iter().map(char::from).collect(),
            Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
        }
    }
}

/// The single-byte separators of an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub element: u8,
    pub component: u8,
    pub terminator: u8,
    pub release: Option<u8>,
    pub repetition: Option<u8>,
}

impl Separators {
    /// Refuses separators that could be data or that collide, which would make the
    /// split ambiguous; ASCII ones also keep every UTF-8 value whole.
    pub fn check(&self) -> Result<(), String> {
        let all = [self.element, self.component, self.terminator].map(Some);
        let all: Vec<u8> = all
            .into_iter()
            .chain([self.release, self.repetition])
            .flatten()
            .collect();
        for (i, &b) in all.iter().enumerate() {
            let blank = b.is_ascii_whitespace() && b != self.terminator;
            if b == 0 || !b.is_ascii() || b.is_ascii_alphanumeric() || blank {
                return Err(format!("{} cannot be a separator", show(b)));
            }
            if all[..i].contains(&b) {
                return Err(format!("{} is declared as two separators", show(b)));
            }
        }
        Ok(())
    }
}

/// A byte as an error message names it: `'` for printable ASCII, else 0x1C.
pub fn show(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("`{}`", byte as char)
    } else {
        format!("0x{byte:02X}")
    }
}

/// A value shortened for an error message.
fn shown(value: &str) -> String {
    match value.char_indices().nth(35) {
        Some((i, _)) => format!("`{}…`", &value[..i]),
        None if value.is_empty() => "(none)".into(),
        None => format!("`{value}`"),
    }
}

/// Where the next segment may start: after blanks and line breaks (and, at the
/// start of the body, a UTF-8 byte order mark).
pub fn skip_blank(body: &[u8], from: usize) -> usize {
    let from = if from == 0 && body.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        from
    };
    from + body[from.min(body.len())..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count()
}

/// Where a value sits in its segment: element, repetition and component, from 1.
pub type Position = [u8; 3];

/// One segment: its tag and the values sent after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// From 1 at the interchange header.
    pub number: usize,
    /// Byte offset of its tag in the body.
    pub offset: usize,
    pub tag: String,
    /// In the order sent; an empty element or component is not kept.
    pub values: Vec<(Position, String)>,
}

impl Segment {
    /// Component `component` of element `element`, first repetition; `""` when not sent.
    pub fn value(&self, element: usize, component: usize) -> &str {
        let wanted = |(p, _): &&(Position, String)| {
            usize::from(p[0]) == element && p[1] == 1 && usize::from(p[2]) == component
        };
        self.values.iter().find(wanted).map_or("", |(_, v)| v)
    }

    /// `segment 14 (UNT) at byte 612`.
    pub fn at(&self) -> String {
        let (number, tag, offset) = (self.number, &self.tag, self.offset);
        format!("segment {number} ({tag}) at byte {offset}")
    }

    /// The segment as the module docs describe it.
    pub fn into_json(self) -> Map<String, Value> {
        let mut map = Map::with_capacity(self.values.len());
        for ([element, repetition, component], value) in self.values {
            let mut key = format!("{}{element:02}", self.tag);
            if repetition > 1 {
                key += &format!("_r{repetition}");
            }
            if component > 1 {
                key += &format!("_{component}");
            }
            map.insert(key, Value::String(value));
        }
        map
    }
}

/// A segment split but not yet decoded: its tag's bytes (empty when the first
/// element is not one plain value), its values, and where a control character is.
type Split = (Vec<u8>, Vec<(Position, Vec<u8>)>, Option<usize>);

/// Reads segments one at a time, so no more than one is held apart from the trees.
pub struct Scanner<'a> {
    body: &'a [u8],
    pub pos: usize,
    /// The number of the last segment read.
    pub number: usize,
    pub separators: Separators,
    pub charset: Charset,
    /// Tags are one uppercase letter, then uppercase letters or digits, this long.
    pub tag_len: std::ops::RangeInclusive<usize>,
}

impl<'a> Scanner<'a> {
    pub fn new(body: &'a [u8], pos: usize, separators: Separators, charset: Charset) -> Self {
        let tag_len = 3..=3;
        Scanner {
            body,
            pos,
            number: 0,
            separators,
            charset,
            tag_len,
        }
    }

    /// Reads `segment` again (after the separators or charset it declares are set).
    pub fn reread(&mut self, segment: &Segment) -> Result<Option<Segment>, EdiError> {
        (self.pos, self.number) = (segment.offset, segment.number - 1);
        self.segment()
    }

    /// Where something other than blanks follows the last segment read, if it does.
    pub fn trailing(&self) -> Option<usize> {
        Some(skip_blank(self.body, self.pos)).filter(|&at| at < self.body.len())
    }

    /// The next segment, or `None` at the end of the body.
    pub fn segment(&mut self) -> Result<Option<Segment>, EdiError> {
        let start = skip_blank(self.body, self.pos);
        if start >= self.body.len() {
            self.pos = self.body.len();
            return Ok(None);
        }
        self.number += 1;
        let end = self.end_of_segment(start)?;
        self.pos = end + 1;
        let (tag, raw, control) = self.split(start, end)?;
        let tag = self.tag(&tag, start)?;
        let at = || format!("segment {} ({tag}) at byte {start}", self.number);
        if let Some(i) = control {
            let found = show(self.body[i]);
            return Err(malformed(format!(
                "{} holds control character {found} at byte {i}",
                at()
            )));
        }
        let charset = self.charset;
        charset
            .check(&self.body[start..end], start)
            .map_err(|e| EdiError::Encoding(format!("{}: {e}", at())))?;
        let values = raw
            .into_iter()
            .map(|(p, v)| (p, charset.decode(v)))
            .collect();
        let (number, offset) = (self.number, start);
        Ok(Some(Segment {
            number,
            offset,
            tag,
            values,
        }))
    }

    /// The offset of the terminator of the segment at `start`.
    fn end_of_segment(&self, start: usize) -> Result<usize, EdiError> {
        let Separators {
            terminator,
            release,
            ..
        } = self.separators;
        let limit = self.body.len().min(start + MAX_SEGMENT_BYTES + 1);
        let mut i = start;
        while i < limit {
            match self.body[i] {
                b if b == terminator => return Ok(i),
                b if Some(b) == release => i += 2,
                _ => i += 1,
            }
        }
        let (n, t) = (self.number, show(terminator));
        Err(malformed(if limit < self.body.len() {
            format!(
                "segment {n} at byte {start} runs past {MAX_SEGMENT_BYTES} bytes without a segment terminator ({t})"
            )
        } else {
            format!(
                "the body ends inside segment {n}, which begins at byte {start}: no segment terminator ({t}) follows"
            )
        }))
    }

    /// The segment between `start` and its terminator at `end`, unescaped.
    fn split(&self, start: usize, end: usize) -> Result<Split, EdiError> {
        let s = self.separators;
        let (mut tag, mut values, mut control) = (Vec::new(), Vec::new(), None);
        let (mut position, mut value) = ([0, 1, 1], Vec::new());
        let mut i = start;
        while i <= end {
            let released = i < end && Some(self.body[i]) == s.release;
            i += usize::from(released);
            let byte = self.body[i];
            i += 1;
            let next = match byte {
                _ if released => None,
                b if b == s.component => Some([position[0], position[1], position[2] + 1]),
                b if Some(b) == s.repetition => Some([position[0], position[1] + 1, 1]),
                b if b == s.element || i > end => Some([position[0] + 1, 1, 1]),
                _ => None,
            };
            let Some(next) = next else {
                if byte < 0x20 && byte != b'\t' || byte == 0x7F {
                    control = control.or(Some(i - 1));
                }
                value.push(byte);
                continue;
            };
            if position[0] > 0 && !value.is_empty() {
                values.push((position.map(|p| p as u8), std::mem::take(&mut value)));
            } else if position[0] == 0 {
                // The tag: the first element, one plain value.
                tag = if position == [0, 1, 1] {
                    std::mem::take(&mut value)
                } else {
                    Vec::new()
                };
            }
            position = next;
            if let Some(what) = [
                "elements",
                "repetitions of an element",
                "components in an element",
            ]
            .iter()
            .zip(position)
            .find_map(|(what, p)| (p > MAX_PARTS && i <= end).then_some(what))
            {
                let n = self.number;
                return Err(malformed(format!(
                    "segment {n} at byte {start} has more than {MAX_PARTS} {what}"
                )));
            }
        }
        Ok((tag, values, control))
    }

    /// The tag, refusing one that is not a tag.
    fn tag(&self, tag: &[u8], start: usize) -> Result<String, EdiError> {
        let valid = self.tag_len.contains(&tag.len())
            && tag.first().is_some_and(u8::is_ascii_uppercase)
            && tag
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if valid {
            return Ok(String::from_utf8_lossy(tag).into_owned());
        }
        let seen = String::from_utf8_lossy(&self.body[start..self.body.len().min(start + 8)]);
        let n = self.number;
        Err(malformed(format!(
            "segment {n} at byte {start} does not begin with a segment tag: {seen:?}"
        )))
    }
}

/// Which tags of one message type open a group, at level 1 or 2, and which close
/// back to the top.
#[derive(Debug)]
pub struct Groups {
    pub open: &'static [(&'static str, u8)],
    pub close: &'static [&'static str],
}

impl Groups {
    pub const FLAT: Groups = Groups::new(&[], &[]);

    pub const fn new(open: &'static [(&'static str, u8)], close: &'static [&'static str]) -> Self {
        Groups { open, close }
    }
}

/// One message's document tree as it is built.
#[derive(Default)]
struct Tree {
    top: Map<String, Value>,
    open: [Option<(String, Map<String, Value>)>; 2],
}

impl Tree {
    fn push(&mut self, groups: &Groups, segment: Segment) {
        let tag = segment.tag.clone();
        let level = groups
            .open
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, l)| usize::from(*l));
        match level {
            Some(level @ 1..=2) => {
                self.close(level);
                self.open[level - 1] = Some((tag, segment.into_json()));
            }
            _ if groups.close.contains(&tag.as_str()) => self.push_top(segment),
            _ => {
                let parent = match &mut self.open {
                    [_, Some((_, map))] | [Some((_, map)), None] => map,
                    [None, None] => &mut self.top,
                };
                append(parent, tag, segment.into_json());
            }
        }
    }

    fn push_top(&mut self, segment: Segment) {
        self.close(1);
        append(&mut self.top, segment.tag.clone(), segment.into_json());
    }

    /// Closes the open groups at `level` and deeper.
    fn close(&mut self, level: usize) {
        if let Some((tag, map)) = self.open[1].take() {
            match &mut self.open[0] {
                Some((_, parent)) => append(parent, tag, map),
                None => append(&mut self.top, tag, map),
            }
        }
        if level == 1
            && let Some((tag, map)) = self.open[0].take()
        {
            append(&mut self.top, tag, map);
        }
    }
}

fn append(map: &mut Map<String, Value>, tag: String, segment: Map<String, Value>) {
    if let Value::Array(list) = map.entry(tag).or_insert_with(|| Value::Array(vec![])) {
        list.push(Value::Object(segment));
    }
}

/// What differs between the envelopes of the two formats.
pub struct Envelope {
    /// Header and trailer tags of the interchange, a group and a message.
    pub interchange: [&'static str; 2],
    pub group: [&'static str; 2],
    pub message: [&'static str; 2],
    /// The element of each header (interchange, group, message) holding its
    /// control reference, which its trailer's second element repeats.
    pub references: [usize; 3],
    /// The message header's element naming the message type.
    pub message_type: usize,
    /// What a message and a group are called: `message`, `transaction set`, …
    pub words: [&'static str; 2],
    pub groups_required: bool,
    /// Segments outside messages that are taken and dropped.
    pub ignored: &'static [&'static str],
    pub tables: &'static [(&'static str, Groups)],
}

/// A header that its trailer must match.
struct Opened {
    at: String,
    reference: String,
    /// Segments (message) or messages (group, interchange) so far.
    count: usize,
    /// Its tag and object, when documents carry it.
    json: Option<(String, Map<String, Value>)>,
}

impl Opened {
    fn new(segment: &Segment, reference: usize, carried: bool) -> Opened {
        let (at, reference) = (segment.at(), segment.value(reference, 1).to_string());
        let json = carried.then(|| (segment.tag.clone(), segment.clone().into_json()));
        Opened {
            at,
            reference,
            count: 0,
            json,
        }
    }

    /// Checks a trailer: its first element counts `count` units, its second repeats
    /// the header's reference.
    fn close(&self, trailer: &Segment, unit: &str, scope: &str) -> Result<(), EdiError> {
        let at = trailer.at();
        let given = trailer.value(1, 1);
        if given.parse::<usize>().ok() != Some(self.count) {
            let given = if given.is_empty() {
                "no".into()
            } else {
                shown(given)
            };
            let count = self.count;
            return Err(malformed(format!(
                "{at} counts {given} {unit}s, {scope} has {count}"
            )));
        }
        let given = trailer.value(2, 1);
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let same = given == self.reference
            || digits(given)
                && digits(&self.reference)
                && given.trim_start_matches('0') == self.reference.trim_start_matches('0');
        if !same {
            let (given, header, reference) = (shown(given), &self.at, shown(&self.reference));
            return Err(malformed(format!(
                "{at} names control reference {given}, {header} names {reference}"
            )));
        }
        Ok(())
    }
}

/// An interchange being read after its header.
struct Reading<'e> {
    envelope: &'e Envelope,
    max: usize,
    interchange: Opened,
    group: Option<Opened>,
    groups: usize,
    message: Option<(Opened, Tree, &'e Groups)>,
    documents: Vec<Value>,
    /// Values the documents' copies of the envelope headers may still hold.
    budget: usize,
}

/// Reads the interchange after its `header` segment into one document per message,
/// checking the envelope.
pub fn read_interchange(
    mut scanner: Scanner,
    header: Segment,
    envelope: &Envelope,
    max: usize,
) -> Result<Vec<Value>, EdiError> {
    let interchange = Opened::new(&header, envelope.references[0], true);
    let mut reading = Reading {
        envelope,
        max,
        interchange,
        group: None,
        groups: 0,
        message: None,
        documents: vec![],
        budget: scanner.body.len() / 2,
    };
    while let Some(segment) = scanner.segment()? {
        if reading.segment(segment)? {
            let trailer = envelope.interchange[1];
            return match scanner.trailing() {
                Some(i) => Err(malformed(format!(
                    "bytes follow {trailer} at byte {i}: an interchange ends with {trailer}"
                ))),
                None => Ok(reading.documents),
            };
        }
    }
    let (end, [message, _]) = (scanner.pos, envelope.words);
    Err(malformed(match reading.message {
        Some((opened, ..)) => format!(
            "the interchange ends inside {message} {} (no {}): the {message} begins at {}, the body ends at byte {end}",
            reading.documents.len() + 1,
            envelope.message[1],
            opened.at
        ),
        None => format!(
            "the interchange ends without {} after segment {}, at byte {end}",
            envelope.interchange[1], scanner.number
        ),
    }))
}

impl Reading<'_> {
    /// Takes one segment; true when it ends the interchange.
    fn segment(&mut self, segment: Segment) -> Result<bool, EdiError> {
        if self.message.is_some() {
            return self.in_message(segment).map(|()| false);
        }
        let e = self.envelope;
        let [message, group] = e.words;
        let (tag, at) = (segment.tag.as_str(), segment.at());
        match tag {
            t if t == e.message[0] => self.begin_message(segment)?,
            t if t == e.group[0] => {
                if let Some(g) = &self.group {
                    return Err(malformed(format!(
                        "{at} begins a {group} inside the {group} begun by {}, which has no {}",
                        g.at, e.group[1]
                    )));
                }
                self.groups += 1;
                self.group = Some(Opened::new(&segment, e.references[1], true));
            }
            t if t == e.group[1] => {
                let g = self.group.take().ok_or_else(|| {
                    malformed(format!("{at} ends a {group} that was never begun"))
                })?;
                g.close(&segment, message, &format!("the {group}"))?;
            }
            t if t == e.interchange[1] => {
                if let Some(g) = &self.group {
                    return Err(malformed(format!(
                        "{at} ends the interchange inside the {group} begun by {}, which has no {}",
                        g.at, e.group[1]
                    )));
                }
                let (unit, count) = if self.groups > 0 {
                    (group, self.groups)
                } else {
                    (message, self.interchange.count)
                };
                self.interchange.count = count;
                self.interchange.close(&segment, unit, "the interchange")?;
                return Ok(true);
            }
            t if t == e.interchange[0] => {
                return Err(malformed(format!(
                    "{at} begins a second interchange: freightgate reads one per body"
                )));
            }
            t if e.ignored.contains(&t) => {}
            _ => {
                let [h, t] = e.message;
                return Err(malformed(format!(
                    "{at} lies outside any {message} ({h} … {t})"
                )));
            }
        }
        Ok(false)
    }

    fn begin_message(&mut self, segment: Segment) -> Result<(), EdiError> {
        let e = self.envelope;
        if e.groups_required && self.group.is_none() {
            let ([message, group], [h, t]) = (e.words, e.group);
            return Err(malformed(format!(
                "{} begins a {message} outside any {group} ({h} … {t})",
                segment.at()
            )));
        }
        if self.documents.len() >= self.max {
            return Err(EdiError::TooMany { max: self.max });
        }
        let kind = segment.value(e.message_type, 1);
        let groups = e
            .tables
            .iter()
            .find(|(t, _)| *t == kind)
            .map_or(&Groups::FLAT, |(_, g)| g);
        let carried = std::iter::once(&self.interchange).chain(self.group.as_ref());
        let carried: Vec<_> = carried.filter_map(|o| o.json.as_ref()).collect();
        let values = carried.iter().map(|(_, json)| json.len()).sum();
        self.budget = self.budget.checked_sub(values).ok_or_else(|| {
            let (at, n, word) = (segment.at(), self.documents.len() + 1, e.words[0]);
            malformed(format!(
                "{at} begins {word} {n}: one more copy of the envelope headers ({values} values) would take their copies past one value per two bytes of the body; {word}s this much smaller than their envelope are refused"
            ))
        })?;
        let mut tree = Tree::default();
        for (tag, json) in carried {
            append(&mut tree.top, tag.clone(), json.clone());
        }
        let mut opened = Opened::new(&segment, e.references[2], false);
        opened.count = 1;
        tree.push_top(segment);
        self.interchange.count += 1;
        if let Some(g) = &mut self.group {
            g.count += 1;
        }
        self.message = Some((opened, tree, groups));
        Ok(())
    }

    fn in_message(&mut self, segment: Segment) -> Result<(), EdiError> {
        let e = self.envelope;
        let Some((opened, tree, groups)) = &mut self.message else {
            return Ok(());
        };
        opened.count += 1;
        let tag = segment.tag.as_str();
        if tag == e.message[1] {
            opened.close(&segment, "segment", &format!("the {}", e.words[0]))?;
            tree.push_top(segment);
            if let Some((_, tree, _)) = self.message.take() {
                self.documents.push(Value::Object(tree.top));
            }
        } else if [e.interchange, e.group, e.message]
            .as_flattened()
            .contains(&tag)
        {
            let (n, header, trailer) = (self.documents.len() + 1, &opened.at, e.message[1]);
            let message = e.words[0];
            return Err(malformed(format!(
                "{} lies inside {message} {n}, begun by {header}, which has no {trailer}",
                segment.at()
            )));
        } else {
            tree.push(groups, segment);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn segments(text: &str) -> Vec<Segment> {
        let (element, component, terminator) = (b'+', b':', b'\'');
        let (release, repetition) = (Some(b'?'), Some(b'*'));
        let separators = Separators {
            element,
            component,
            terminator,
            release,
            repetition,
        };
        let mut scanner = Scanner::new(text.as_bytes(), 0, separators, Charset::Utf8);
        std::iter::from_fn(|| scanner.segment().unwrap()).collect()
    }

    #[test]
    fn elements_components_and_repetitions_are_keys_by_position() {
        let [segment] = segments("DTM+137:202612041030:203++A:1*B::2+?+?:?*?'\t'\r\n")
            .try_into()
            .unwrap();
        assert_eq!(
            (segment.number, segment.offset, segment.value(1, 2)),
            (1, 0, "202612041030")
        );
        let expected = json!({
            "DTM01": "137", "DTM01_2": "202612041030", "DTM01_3": "203",
            "DTM03": "A", "DTM03_2": "1", "DTM03_r2": "B", "DTM03_r2_3": "2",
            "DTM04": "+:*'\t",
        });
        assert_eq!(Value::Object(segment.into_json()), expected);
    }

    #[test]
    fn groups_collect_the_segments_after_them_up_to_a_peer_or_a_closer() {
        const TABLE: Groups = Groups::new(&[("AAA", 1), ("BBB", 2)], &["ZZZ"]);
        let mut tree = Tree::default();
        let text = "TOP+1'BBB+0'CCC+0'AAA+1'CCC+1'BBB+1'CCC+2'BBB+2'AAA+2'BBB+3'ZZZ+1'CCC+9'";
        for segment in segments(text) {
            tree.push(&TABLE, segment);
        }
        let expected = json!({
            "TOP": [{"TOP01": "1"}],
            "BBB": [{"BBB01": "0", "CCC": [{"CCC01": "0"}]}],
            "AAA": [
                {"AAA01": "1", "CCC": [{"CCC01": "1"}], "BBB": [
                    {"BBB01": "1", "CCC": [{"CCC01": "2"}]},
                    {"BBB01": "2"},
                ]},
                {"AAA01": "2", "BBB": [{"BBB01": "3"}]},
            ],
            "ZZZ": [{"ZZZ01": "1"}],
            "CCC": [{"CCC01": "9"}],
        });
        assert_eq!(Value::Object(tree.top), expected);
    }

    #[test]
    fn separators_that_could_be_data_or_collide_are_refused() {
        let good = Separators {
            element: b'*',
            component: b'>',
            terminator: b'\n',
            release: None,
            repetition: None,
        };
        assert_eq!(good.check(), Ok(()));
        for (bad, expected) in [
            (
                Separators {
                    element: b'A',
                    ..good
                },
                "`A` cannot be a separator",
            ),
            (
                Separators {
                    element: b' ',
                    ..good
                },
                "0x20 cannot be a separator",
            ),
            (
                Separators {
                    component: 0,
                    ..good
                },
                "0x00 cannot be a separator",
            ),
            (
                Separators {
                    component: 0xFC,
                    ..good
                },
                "0xFC cannot be a separator",
            ),
            (
                Separators {
                    repetition: Some(b'*'),
                    ..good
                },
                "`*` is declared as two separators",
            ),
        ] {
            assert_eq!(bad.check(), Err(expected.to_string()));
        }
        assert_eq!(
            EdiError::TooMany { max: 3 }.to_string(),
            "more than 3 documents"
        );
    }
}
