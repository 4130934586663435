//! Rendering payload locations as dotted JSONPath, and spotting regex filter functions.

/// Appends a member name in dotted form when it is an identifier, bracketed otherwise.
pub(crate) fn push_key(out: &mut String, key: &str) {
    let mut chars = key.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        out.push('.');
        out.push_str(key);
    } else {
        out.push_str("['");
        for c in key.chars() {
            if c == '\'' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("']");
    }
}

/// Appends an array index.
pub(crate) fn push_index(out: &mut String, i: i64) {
    out.push('[');
    out.push_str(&i.to_string());
    out.push(']');
}

/// Turns jsonpath-rust's normalized path (`$['a'][0]`) into dotted form under `base`.
pub(super) fn rebase_normalized(base: &str, normalized: &str) -> String {
    let mut out = base.to_string();
    let mut chars = normalized
        .strip_prefix('$')
        .unwrap_or(normalized)
        .chars()
        .peekable();
    while let Some(c) = chars.next() {
        if c != '[' {
            return format!("{base}{}", normalized.trim_start_matches('$'));
        }
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut key = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => key.push(unescape(chars.next().unwrap_or('\\'))),
                    '\'' => break,
                    other => key.push(other),
                }
            }
            push_key(&mut out, &key);
        } else {
            let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
            out.push('[');
            out.push_str(&digits);
            out.push(']');
            continue;
        }
        chars.next(); // closing bracket after a quoted name
    }
    out
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'b' => '\u{8}',
        'f' => '\u{c}',
        other => other,
    }
}

/// Finds `match(` or `search(` outside string literals.
pub(super) fn uses_regex_function(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut word = String::new();
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            word.clear();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            if c == '(' && (word == "match" || word == "search") {
                return true;
            }
            if !c.is_whitespace() {
                word.clear();
            }
        }
    }
    false
}
