//! Strings that are hard to write back: the values the generated manifests carry.

use super::rng::Rng;
use base64::Engine;

const ODD: &[&str] = &[
    "",
    " ",
    "plain",
    "two words",
    " leading space",
    "trailing space ",
    "  two leading",
    "ends in newline\n",
    "two\nlines",
    "two\nlines\n",
    "kept\n\n",
    "kept three\n\n\n",
    "\nstarts with newline",
    "\n\nstarts with two\n",
    "  indented\nblock\n",
    "first\n  indented second\nthird\n",
    "line with trailing space \nnext\n",
    "tab\there",
    "\ttab first",
    "say \"hi\"",
    "it's",
    "'single'",
    "\"double\"",
    "back\\slash",
    "ünïcødé ☃",
    "emoji 😀 beyond the plane",
    "日本語のテキスト",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "NO",
    "true",
    "False",
    "null",
    "~",
    "1.0",
    "0644",
    "0x1F",
    "1e3",
    "12:30",
    "1_000",
    "2024-01-02",
    "+1",
    ".5",
    ".inf",
    ":colon first",
    "colon: inside",
    "a:b",
    "- dash first",
    "-dash",
    "# hash first",
    "hash #inside",
    "a#b",
    "@at",
    "`tick",
    "%percent",
    "&anchor",
    "*alias",
    "!tag",
    "|pipe",
    ">gt",
    "[bracket]",
    "{brace}",
    "a, b",
    "?question",
    "? q",
    "---",
    "...",
    "--- not a marker",
    "bell\u{7}",
    "nul\u{0}byte",
    "escape\u{1b}[0m",
    "nel\u{85}next",
    "line\u{2028}separator",
    "bom\u{feff}inside",
    "\u{feff}bom first",
    "nbsp\u{a0}here",
    "carriage\r\nreturn",
    "cr only\r",
    "windows\r\nlines\r\n",
    "#!/bin/sh\nset -e\necho \"hello\"   \n\texit 0\n",
    "{\n  \"json\": true,\n  \"list\": [1, 2]\n}\n",
    "key = value\n[section]\nother = 1\n",
];

/// One odd string.
pub fn odd(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => long_line(rng),
        1 => base64_text(rng, 300),
        2 => {
            let a = rng.pick(ODD).to_string();
            let b = rng.pick(ODD).to_string();
            format!("{a}{b}")
        }
        _ => rng.pick(ODD).to_string(),
    }
}

/// A string that is safe everywhere: a name-like word.
pub fn word(rng: &mut Rng) -> String {
    rng.pick(&[
        "alpha", "beta", "gamma", "delta", "web", "api", "db", "cache", "worker", "edge",
    ])
    .to_string()
}

/// A long line of words, folded by the encoder somewhere after column 80.
pub fn long_line(rng: &mut Rng) -> String {
    let words = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet,",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
        "incididunt",
        "ut",
        "labore",
        "et",
        "dolore",
        "magna",
        "aliqua.",
        "a-very-long-hyphenated-token-without-any-spaces-at-all-to-fold-on",
        " ",
    ];
    let n = rng.range(10, 60);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        let w: &str = rng.pick::<&str>(&words);
        s.push_str(w);
    }
    if rng.chance(20) {
        s.push('\n');
    }
    s
}

/// Standard base64 of `max` random bytes at most (sometimes none).
pub fn base64_text(rng: &mut Rng, max: usize) -> String {
    let n = match rng.below(4) {
        0 => 0,
        1 => rng.range(1, 8),
        _ => rng.range(40, max),
    };
    base64::engine::general_purpose::STANDARD.encode(rng.bytes(n))
}

/// The contents of a file a generator reads: text of many shapes, or binary.
pub fn file_contents(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => {
            let n = rng.range(1, 300);
            rng.bytes(n)
        }
        1 => Vec::new(),
        2 => long_line(rng).into_bytes(),
        3 => {
            let mut s = String::new();
            for _ in 0..rng.range(1, 6) {
                s.push_str(&odd(rng));
                s.push('\n');
            }
            s.into_bytes()
        }
        _ => odd(rng).into_bytes(),
    }
}
