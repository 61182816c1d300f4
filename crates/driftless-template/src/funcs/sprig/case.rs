//! huandu/xstrings v1.5.0's case conversions as Sprig uses them: `camelcase` (ToPascalCase),
//! `snakecase` (ToSnakeCase) and `kebabcase` (ToKebabCase).

fn is_connector(r: char) -> bool {
    r == '-' || r == '_' || r.is_whitespace()
}

/// xstrings' `isAlphabet`: a letter outside the CJK blocks.
fn is_alphabet(r: char) -> bool {
    r.is_alphabetic() && (u32::from(r) < 0x2E80 || !(0x2E80..=0x9FFF).contains(&u32::from(r)))
}

fn is_upper(r: char) -> bool {
    r.is_uppercase()
}

fn to_upper(r: char) -> char {
    let mut u = r.to_uppercase();
    match (u.next(), u.next()) {
        (Some(c), None) => c,
        _ => r,
    }
}

fn to_lower(r: char) -> char {
    let mut u = r.to_lowercase();
    match (u.next(), u.next()) {
        (Some(c), None) => c,
        _ => r,
    }
}

/// Go's `unicode.IsPunct` (categories P*), approximated with ASCII punctuation and the
/// general punctuation block.
fn is_punct(r: char) -> bool {
    if r.is_ascii() {
        return r.is_ascii_punctuation()
            && !matches!(r, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~');
    }
    matches!(u32::from(r), 0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF | 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003)
}

/// ToPascalCase.
pub(super) fn pascal(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    let mut first_upper = false;
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            first_upper = is_upper(c);
            r0 = Some(to_upper(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = is_upper(r0);
            r0 = to_upper(r0);
        } else {
            if first_upper {
                if is_upper(r0) {
                    r0 = to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, r)) = it.next() else {
        return (Word::Invalid, "", "");
    };
    let mut offset = r.len_utf8();
    let rest = |o: usize| &s[o..];
    let take_while = |mut offset: usize, pred: &dyn Fn(char) -> bool| {
        for c in s[offset..].chars() {
            if !pred(c) {
                break;
            }
            offset += c.len_utf8();
        }
        offset
    };
    let wt;
    if is_connector(r) {
        wt = Word::Connector;
        offset = take_while(offset, &is_connector);
    } else if is_punct(r) {
        wt = Word::Punct;
        offset = take_while(offset, &is_punct);
    } else if is_upper(r) {
        wt = Word::Upper;
        if let Some(r2) = rest(offset).chars().next() {
            if is_upper(r2) {
                let mut prev = r2.len_utf8();
                offset += prev;
                let mut last = None;
                for c in s[offset..].chars() {
                    if !is_upper(c) {
                        last = Some(c);
                        break;
                    }
                    prev = c.len_utf8();
                    offset += prev;
                }
                if let Some(c) = last
                    && is_alphabet(c)
                {
                    offset -= prev;
                }
            } else if is_alphabet(r2) {
                offset += r2.len_utf8();
                offset = take_while(offset, &|c| is_alphabet(c) && !is_upper(c));
            }
        }
    } else if is_alphabet(r) {
        wt = Word::Alphabet;
        offset = take_while(offset, &|c| is_alphabet(c) && !is_upper(c));
    } else if r.is_numeric() {
        wt = Word::Number;
        offset = take_while(offset, &char::is_numeric);
    } else {
        wt = Word::Other;
        offset = take_while(offset, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
    }
    (wt, &s[..offset], &s[offset..])
}

fn lower_word(out: &mut String, wt: Word, s: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(s);
        return;
    }
    for r in s.chars() {
        if is_connector(r) {
            out.push(connector);
        } else if is_upper(r) {
            out.push(to_lower(r));
        } else {
            out.push(r);
        }
    }
}

/// camelCaseToLowerCase: ToSnakeCase with '_', ToKebabCase with '-'.
pub(super) fn lower_case(s: &str, connector: char) -> String {
    let mut out = String::new();
    if s.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut remaining) = next_word(s);
    while !remaining.is_empty() {
        if wt != Word::Connector {
            lower_word(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Punct && wt != Word::Connector {
                    out.push(connector);
                }
            }
            Word::Connector => lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                if wt != Word::Alphabet {
                    lower_word(&mut out, Word::Number, last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                lower_word(&mut out, Word::Number, last, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Connector && wt != Word::Punct {
                    out.push(connector);
                }
            }
        }
    }
    lower_word(&mut out, wt, word, connector);
    out
}
