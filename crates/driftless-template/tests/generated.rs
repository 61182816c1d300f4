//! Seeded random templates (valid and invalid combinations of actions, pipelines, variables,
//! built-ins and fmt verbs over YAML-like data) rendered by Go's text/template and by
//! Driftless: outputs and error messages must be byte-identical. The seed range is fixed;
//! `DRIFTLESS_TEMPLATE_SEEDS=N` (or `A..B`) runs more.

mod support;

use support::{Case, Result, assert_same, data};

/// SplitMix64: a tiny deterministic generator, so seeds mean the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const DATA: &str = r#"{"s":"abc","t":"Hello World","e":"","n":3,"f":2.5,"z":0,"neg":-4,"big":1e6,"b":true,"no":false,
 "nil":null,"l":[1,"x",2.5,null,true],"sl":["c","a","b"],"nl":[3,1,2],"el":[],
 "m":{"a":1,"b":"two","c":[1,2],"d":{"e":"deep"}},"em":{},"items":[{"name":"a","v":1},{"name":"b","v":2}]}"#;

const FIELDS: &[&str] = &[
    ".s", ".t", ".e", ".n", ".f", ".z", ".neg", ".big", ".b", ".no", ".nil", ".l", ".sl", ".nl",
    ".el", ".m", ".em", ".m.a", ".m.b", ".m.c", ".m.d.e", ".m.zz", ".missing", ".items", ".", "$",
    "$.s",
];
/// Operands of one kind each, so that comparisons mostly succeed.
const FLOATS: &[&str] = &[
    ".n",
    ".f",
    ".z",
    ".neg",
    ".big",
    ".m.a",
    "1.5",
    "2.0",
    "0.0",
    "(len .sl | print | len)",
];
const STRINGS: &[&str] = &[
    ".s",
    ".t",
    ".e",
    ".m.b",
    "\"abc\"",
    "\"\"",
    "`b`",
    "(print 1)",
];
const INTS: &[&str] = &["1", "0", "-3", "(len .s)", "(len .m)", "'a'", "0x10"];
const CONSTS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "3",
    "1.5",
    "2.0",
    "1e3",
    "0x10",
    "'a'",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"x y\"",
    "true",
    "false",
    "`raw`",
    "\"%d\"",
    "100000000",
    "0.1",
];
const VERBS: &[&str] = &[
    "%v", "%d", "%s", "%q", "%x", "%X", "%f", "%.2f", "%5.1f", "%e", "%g", "%t", "%T", "%+v",
    "%#v", "%5d", "%-5s|", "%05d", "%o", "%b", "%c", "%U", "%08.3f", "%.3s", "%x", "%3v", "%%",
    "%!", "%[1]v", "%*d",
];

struct Gen {
    rng: Rng,
    sprig: bool,
    vars: Vec<String>,
    in_range: usize,
    defined: Vec<String>,
}

impl Gen {
    fn operand(&mut self, depth: usize) -> String {
        let r = self.rng.below(100);
        if r < 35 {
            let f = self.rng.pick(FIELDS).to_string();
            return f;
        }
        if r < 38 {
            // Fields of values that have none: errors Go words in its own way.
            return self
                .rng
                .pick(&[".s.x", ".nil.x", ".l.x", ".n.x", ".m.d.e.f"])
                .to_string();
        }
        if r < 50 && !self.vars.is_empty() {
            let v = self.vars[self.rng.below(self.vars.len())].clone();
            return if self.rng.chance(20) {
                format!("{v}.a")
            } else {
                v
            };
        }
        if r < 75 || depth == 0 {
            return self.rng.pick(CONSTS).to_string();
        }
        format!("({})", self.pipeline(depth - 1))
    }

    fn sprig_call(&mut self, depth: usize) -> String {
        let f = [
            "upper",
            "lower",
            "trim",
            "quote",
            "squote",
            "toString",
            "toJson",
            "b64enc",
            "sha256sum",
            "kindOf",
            "typeOf",
            "empty",
            "int",
            "float64",
            "first",
            "last",
            "rest",
            "keys",
            "toStrings",
            "nospace",
            "snakecase",
            "camelcase",
            "title",
            "len",
        ];
        let f2 = [
            "default",
            "add",
            "sub",
            "mul",
            "max",
            "min",
            "contains",
            "hasPrefix",
            "list",
            "dict",
            "coalesce",
            "has",
            "join",
            "trunc",
            "indent",
            "nindent",
            "get",
            "hasKey",
            "pluck",
            "splitList",
            "repeat",
            "cat",
            "without",
            "append",
            "merge",
            "dig",
            "regexMatch",
            "semverCompare",
            "ternary",
            "until",
            "printf",
        ];
        if self.rng.chance(40) {
            let name = f[self.rng.below(f.len())];
            let x = self.operand(depth);
            if name == "keys" {
                // Go's key order is random: only sorted keys can be compared.
                return format!("keys {x} | sortAlpha");
            }
            return format!("{name} {x}");
        }
        let name = f2[self.rng.below(f2.len())];
        match name {
            "repeat" => format!(
                "repeat {} {}",
                self.rng.pick(&["0", "2", "3"]),
                self.operand(depth)
            ),
            "until" => format!(
                "until {}",
                self.rng.pick(&["0", "3", "-2", ".n", "(int .f)"])
            ),
            "dig" => format!(
                "dig {} {} {} {}",
                self.rng.pick(&["\"m\"", "\"d\"", "\"a\""]),
                self.rng.pick(&["\"e\"", "\"a\""]),
                self.operand(depth),
                self.rng.pick(&[".", ".m", ".m.d", ".nil"])
            ),
            "ternary" => format!(
                "ternary {} {} {}",
                self.operand(depth),
                self.operand(depth),
                self.rng.pick(&["true", "false", ".b", ".no", ".n"])
            ),
            "merge" => format!(
                "merge (dict {} {}) {}",
                self.rng.pick(&["\"a\"", "\"z\""]),
                self.operand(depth),
                self.rng.pick(&[".m", ".em", ".m.d", "(dict)"])
            ),
            "semverCompare" => format!(
                "semverCompare {} {}",
                self.rng
                    .pick(&["\">=1.2\"", "\"^1.0\"", "\"~2\"", "\"<3.0-0\""]),
                self.rng
                    .pick(&["\"1.2.3\"", "\"v2.0\"", "\"3.0.0-rc1\"", ".s"])
            ),
            "printf" => {
                let v = self.rng.pick(VERBS);
                format!("printf {v:?} {}", self.operand(depth))
            }
            "list" | "dict" | "cat" | "coalesce" => {
                let n = self.rng.below(4);
                let args: Vec<String> = (0..n).map(|_| self.operand(depth)).collect();
                format!("{name} {}", args.join(" "))
            }
            _ => {
                let (x, y) = (self.operand(depth), self.operand(depth));
                format!("{name} {x} {y}")
            }
        }
    }

    fn call(&mut self, depth: usize) -> String {
        if self.sprig && self.rng.chance(50) {
            return self.sprig_call(depth);
        }
        let f = self.rng.pick(&[
            "len", "index", "slice", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not",
            "print", "printf", "println", "html", "js", "urlquery", "eq3",
        ]);
        if matches!(f, "eq" | "ne" | "lt" | "le" | "gt" | "ge") && self.rng.chance(70) {
            let kind = [FLOATS, STRINGS, INTS][self.rng.below(3)];
            let (x, y) = (self.rng.pick(kind), self.rng.pick(kind));
            return format!("{f} {x} {y}");
        }
        let mut a = || self.operand(depth);
        match f {
            "len" | "not" | "html" | "js" | "urlquery" => format!("{f} {}", a()),
            "index" => {
                let (x, k) = (a(), a());
                format!("index {x} {k}")
            }
            "slice" => {
                let x = a();
                let n = self.rng.below(3);
                let idx: Vec<String> = (0..n)
                    .map(|_| self.rng.pick(&["0", "1", "2", "3", "-1"]).to_string())
                    .collect();
                format!("slice {x} {}", idx.join(" "))
            }
            "eq3" => {
                let (x, y, z) = (a(), a(), a());
                format!("eq {x} {y} {z}")
            }
            "print" | "println" | "and" | "or" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                let (x, y) = (a(), a());
                format!("{f} {x} {y}")
            }
            _ => {
                let n = self.rng.below(3);
                let verbs: Vec<&str> = (0..=n).map(|_| self.rng.pick(VERBS)).collect();
                let args: Vec<String> = (0..=n).map(|_| self.operand(depth)).collect();
                format!("printf {:?} {}", verbs.join(" "), args.join(" "))
            }
        }
    }

    fn pipeline(&mut self, depth: usize) -> String {
        let mut p = if self.rng.chance(55) {
            self.call(depth)
        } else {
            self.operand(depth)
        };
        if self.rng.chance(20) {
            let stage = self.rng.pick(&[
                "len",
                "print",
                "printf \"%v|\"",
                "not",
                "html",
                "printf \"%T\"",
                "and 1",
                "or 0",
            ]);
            p = format!("{p} | {stage}");
        }
        p
    }

    fn open(&mut self) -> &'static str {
        if self.rng.chance(15) { "{{- " } else { "{{" }
    }

    fn close(&mut self) -> &'static str {
        if self.rng.chance(15) { " -}}" } else { "}}" }
    }

    fn text(&mut self) -> String {
        self.rng
            .pick(&["a", " ", "\n", " b \n ", "\t", "x=", ",", "  \n\n  "])
            .to_string()
    }

    fn block(&mut self, depth: usize, out: &mut String) {
        let n = 1 + self.rng.below(3);
        for _ in 0..n {
            self.stmt(depth, out);
        }
    }

    fn stmt(&mut self, depth: usize, out: &mut String) {
        let r = self.rng.below(100);
        let (o, c) = (self.open(), self.close());
        if r < 20 || depth == 0 {
            out.push_str(&self.text());
            if self.rng.chance(50) {
                let p = self.pipeline(2);
                out.push_str(&format!("{o}{p}{c}"));
            }
            return;
        }
        if r < 35 {
            let p = self.pipeline(2);
            out.push_str(&format!("{o}{p}{c}"));
            return;
        }
        if r < 45 {
            let p = self.pipeline(2);
            if !self.vars.is_empty() && self.rng.chance(40) {
                let v = self.vars[self.rng.below(self.vars.len())].clone();
                if v != "$" {
                    out.push_str(&format!("{o}{v} = {p}{c}"));
                    return;
                }
            }
            let v = format!("$v{}", self.vars.len());
            out.push_str(&format!("{o}{v} := {p}{c}"));
            self.vars.push(v);
            return;
        }
        let mark = self.vars.len();
        if r < 60 {
            let kw = if self.rng.chance(70) { "if" } else { "with" };
            let p = self.pipeline(2);
            out.push_str(&format!("{o}{kw} {p}{c}"));
            self.block(depth - 1, out);
            if self.rng.chance(30) {
                let p = self.pipeline(1);
                out.push_str(&format!("{{{{else {kw} {p}}}}}"));
                self.block(depth - 1, out);
            }
            if self.rng.chance(40) {
                out.push_str("{{else}}");
                self.block(depth - 1, out);
            }
            out.push_str(&format!("{}end{}", self.open(), self.close()));
        } else if r < 78 {
            let over = if self.rng.chance(25) {
                self.rng.pick(&["3", "0", ".n", "-2", "2"]).to_string()
            } else {
                self.rng
                    .pick(&[
                        ".sl", ".nl", ".l", ".m", ".em", ".el", ".items", ".missing", ".nil", ".s",
                        ".m.c",
                    ])
                    .to_string()
            };
            let decl = match self.rng.below(3) {
                0 => String::new(),
                1 => {
                    let v = format!("$e{}", self.vars.len());
                    self.vars.push(v.clone());
                    format!("{v} := ")
                }
                _ => {
                    let (i, v) = (
                        format!("$i{}", self.vars.len()),
                        format!("$e{}", self.vars.len()),
                    );
                    self.vars.push(i.clone());
                    self.vars.push(v.clone());
                    format!("{i}, {v} := ")
                }
            };
            out.push_str(&format!("{o}range {decl}{over}{c}"));
            self.in_range += 1;
            self.block(depth - 1, out);
            if self.rng.chance(25) {
                let p = self.pipeline(1);
                let kw = self.rng.pick(&["break", "continue"]);
                out.push_str(&format!("{{{{if {p}}}}}{{{{{kw}}}}}{{{{end}}}}"));
            }
            self.in_range -= 1;
            if self.rng.chance(30) {
                out.push_str("{{else}}");
                self.block(depth - 1, out);
            }
            out.push_str("{{end}}");
        } else if r < 88 && !self.defined.is_empty() {
            let name = self.defined[self.rng.below(self.defined.len())].clone();
            let p = self.pipeline(1);
            out.push_str(&format!("{o}template {name:?} {p}{c}"));
        } else if r < 94 {
            out.push_str(&format!("{o}/* note */{c}"));
        } else {
            let p = self.pipeline(3);
            out.push_str(&format!("{o}{p}{c}"));
        }
        self.vars.truncate(mark);
    }
}

fn template(seed: u64, sprig: bool) -> String {
    let mut g = Gen {
        sprig,
        rng: Rng(seed),
        vars: vec!["$".into()],
        in_range: 0,
        defined: vec![],
    };
    let mut out = String::new();
    for d in 0..g.rng.below(3) {
        let name = format!("d{d}");
        out.push_str(&format!("{{{{define {name:?}}}}}"));
        let saved = std::mem::replace(&mut g.vars, vec!["$".into()]);
        g.block(1, &mut out);
        g.vars = saved;
        out.push_str("{{end}}");
        g.defined.push(name);
    }
    g.block(3, &mut out);
    out
}

fn seeds() -> std::ops::Range<u64> {
    match std::env::var("DRIFTLESS_TEMPLATE_SEEDS") {
        Ok(s) => match s.split_once("..") {
            Some((a, b)) => a.parse().unwrap_or(0)..b.parse().unwrap_or(0),
            None => 0..s.parse().unwrap_or(500),
        },
        Err(_) => 0..500,
    }
}

#[test]
fn generated_templates_render_as_go_renders_them() -> Result {
    let d = data(DATA);
    let cases: Vec<Case> = seeds()
        .map(|s| Case::new(template(s, false), d.clone()))
        .collect();
    assert_same("generated", &cases)
}

#[test]
fn generated_templates_with_sprig_render_as_go_renders_them() -> Result {
    let d = data(DATA);
    let cases: Vec<Case> = seeds()
        .map(|s| Case::new(template(s, true), d.clone()).sprig())
        .collect();
    assert_same("generated with sprig", &cases)
}

#[test]
fn generated_templates_mostly_execute() -> Result {
    // The generator is only worth its seeds if most templates run to the end in Go.
    let d = data(DATA);
    let cases: Vec<Case> = (0..200)
        .map(|s| Case::new(template(s, true), d.clone()).sprig())
        .collect();
    let results = support::go(&cases)?;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    eprintln!("generated: {ok} of {} run without error in Go", cases.len());
    assert!(
        ok * 100 >= cases.len() * 30,
        "only {ok} of {} generated templates run",
        cases.len()
    );
    Ok(())
}
