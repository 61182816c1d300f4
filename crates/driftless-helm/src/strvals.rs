//! Helm's `--set` syntax (`pkg/strvals`), with its exact rules.
//!
//! `a.b=c,d[0].e=f`: names separated by `.`, list indexes `[n]` (the list grows with `null`s),
//! `,` between assignments, `{x,y}` lists, `\` escaping the next character anywhere. Values of
//! `--set` are typed: `true`/`false` (any case) booleans, `null` (any case) null, `0` and
//! integers without a leading zero Go `int64` (an integer [`serde_json::Number`], not a float),
//! anything else a string. `--set-string` keeps every value a string, `--set-file` reads each
//! value as a path (through a callback), `--set-json` parses each value as JSON.

use serde_json::{Map, Number, Value};

/// Most levels of `a.b.c...` names (Helm's `MaxNestedNameLevel`).
pub const MAX_NESTED_NAME_LEVEL: usize = 30;
/// Largest list index (Helm's `MaxIndex`).
pub const MAX_INDEX: usize = 65536;

/// How the values of one expression are read.
pub enum Mode<'a> {
    /// `--set`: typed values.
    Typed,
    /// `--set-string`: strings.
    Strings,
    /// `--set-json`: JSON values.
    Json,
    /// `--set-file`: each value is a path; the callback returns the file's content.
    File(&'a mut dyn FnMut(&str) -> Result<String, String>),
}

/// A bad expression, in Helm's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StrvalsError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, StrvalsError> {
    Err(StrvalsError(m.into()))
}

/// Parses `expr` into `dest` (Helm's `ParseInto`, `ParseIntoString`, `ParseJSON`,
/// `ParseIntoFile`).
///
/// # Errors
/// Helm's message for a malformed expression (`key "a" has no value`, ...).
pub fn parse_into(
    expr: &str,
    dest: &mut Map<String, Value>,
    mode: Mode<'_>,
) -> Result<(), StrvalsError> {
    let mut p = Parser {
        s: expr.chars().collect(),
        pos: 0,
        mode,
    };
    loop {
        match p.key(dest, 0) {
            Ok(()) => {}
            Err(Stop::Eof) => return Ok(()),
            Err(Stop::Err(e)) => return Err(e),
        }
    }
}

/// Parses a `--set` expression into a new table (Helm's `Parse`).
///
/// # Errors
/// As [`parse_into`].
pub fn parse(expr: &str) -> Result<Map<String, Value>, StrvalsError> {
    let mut m = Map::new();
    parse_into(expr, &mut m, Mode::Typed)?;
    Ok(m)
}

enum Stop {
    Eof,
    Err(StrvalsError),
}

impl From<StrvalsError> for Stop {
    fn from(e: StrvalsError) -> Self {
        Stop::Err(e)
    }
}

struct Parser<'a> {
    s: Vec<char>,
    pos: usize,
    mode: Mode<'a>,
}

/// Where `runes_until` stopped: on one of the stop characters, or at the end.
enum Last {
    Stop(char),
    Eof,
}

impl Parser<'_> {
    fn read(&mut self) -> Option<char> {
        let c = self.s.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn runes_until(&mut self, stop: &[char]) -> (String, Last) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, Last::Eof),
                Some(c) if stop.contains(&c) => return (v, Last::Stop(c)),
                Some('\\') => match self.read() {
                    None => return (v, Last::Eof),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn typed(&mut self, raw: &str) -> Result<Value, StrvalsError> {
        match &mut self.mode {
            Mode::Strings => Ok(Value::String(raw.to_owned())),
            Mode::File(read) => read(raw).map(Value::String).map_err(StrvalsError),
            Mode::Typed | Mode::Json => Ok(typed_value(raw)),
        }
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> Result<(), Stop> {
        let (k, last) = self.runes_until(&['=', '[', ',', '.']);
        match last {
            Last::Eof => {
                if k.is_empty() {
                    return Err(Stop::Eof);
                }
                err(format!("key {k:?} has no value"))?
            }
            Last::Stop('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| StrvalsError(format!("error parsing index: {}", e.0)))?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::Array(l)) => l.clone(),
                    Some(other) => err(format!(
                        "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                        crate::table::type_name(other)
                    ))?,
                };
                let (list, result) = self.list_item(list, i, level);
                set(data, &k, Value::Array(list));
                result
            }
            Last::Stop('=') => {
                if matches!(self.mode, Mode::Json) {
                    if self.empty_val() {
                        set(data, &k, Value::Null);
                        return Ok(());
                    }
                    let v = self.json_value()?;
                    set(data, &k, v);
                    self.empty_val();
                    return Ok(());
                }
                match self.val_list() {
                    ListResult::List(l) => {
                        set(data, &k, Value::Array(l?));
                        Ok(())
                    }
                    ListResult::Eof => {
                        set(data, &k, Value::String(String::new()));
                        Err(Stop::Eof)
                    }
                    ListResult::NotList => {
                        let (rs, _) = self.runes_until(&[',']);
                        let v = self.typed(&rs)?;
                        set(data, &k, v);
                        Ok(())
                    }
                }
            }
            Last::Stop(',') => {
                set(data, &k, Value::String(String::new()));
                err(format!("key {k:?} has no value (cannot end with ,)"))?
            }
            Last::Stop(_) => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    ))?;
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Object(m)) => m.clone(),
                    Some(other) => err(format!(
                        "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        crate::table::type_name(other)
                    ))?,
                };
                let e = self.key(&mut inner, level);
                if e.is_ok() && inner.is_empty() {
                    err(format!("key map {k:?} has no value"))?;
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Object(inner));
                }
                e
            }
        }
    }

    fn key_index(&mut self) -> Result<i64, StrvalsError> {
        let (v, last) = self.runes_until(&[']']);
        if matches!(last, Last::Eof) {
            return err("EOF");
        }
        v.parse::<i64>()
            .map_err(|_| StrvalsError(format!("strconv.Atoi: parsing {v:?}: invalid syntax")))
    }

    fn list_item(
        &mut self,
        mut list: Vec<Value>,
        i: i64,
        level: usize,
    ) -> (Vec<Value>, Result<(), Stop>) {
        if i < 0 {
            return (
                list,
                Err(Stop::Err(StrvalsError(format!(
                    "negative {i} index not allowed"
                )))),
            );
        }
        let (k, last) = self.runes_until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                list,
                Err(Stop::Err(StrvalsError(format!(
                    "unexpected data at end of array index: {k:?}"
                )))),
            );
        }
        match last {
            Last::Eof => (list, Err(Stop::Eof)),
            Last::Stop('=') => {
                if matches!(self.mode, Mode::Json) {
                    if self.empty_val() {
                        return set_index(list, i, Value::Null);
                    }
                    let v = match self.json_value() {
                        Ok(v) => v,
                        Err(e) => return (list, Err(Stop::Err(e))),
                    };
                    let (list, r) = set_index(list, i, v);
                    if r.is_err() {
                        return (list, r);
                    }
                    self.empty_val();
                    return (list, Ok(()));
                }
                match self.val_list() {
                    ListResult::List(Ok(l)) => set_index(list, i, Value::Array(l)),
                    ListResult::List(Err(e)) => (list, Err(Stop::Err(e))),
                    ListResult::Eof => set_index(list, i, Value::String(String::new())),
                    ListResult::NotList => {
                        let (rs, _) = self.runes_until(&[',']);
                        match self.typed(&rs) {
                            Ok(v) => set_index(list, i, v),
                            Err(e) => (list, Err(Stop::Err(e))),
                        }
                    }
                }
            }
            Last::Stop('[') => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => {
                        return (
                            list,
                            Err(Stop::Err(StrvalsError(format!(
                                "error parsing index: {}",
                                e.0
                            )))),
                        );
                    }
                };
                let current = match list.get(i as usize) {
                    Some(Value::Array(l)) => l.clone(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(other) => {
                        let msg = format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            crate::table::type_name(other)
                        );
                        return (list, Err(Stop::Err(StrvalsError(msg))));
                    }
                };
                let (inner, r) = self.list_item(current, next, level);
                if let Err(e) = r {
                    return (list, Err(e));
                }
                set_index(list, i, Value::Array(inner))
            }
            Last::Stop(_) => {
                let mut inner = match list.get(i as usize) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                if (i as usize) < list.len() {
                    list[i as usize] = Value::Object(Map::new());
                }
                if let Err(e) = self.key(&mut inner, level) {
                    return (list, Err(e));
                }
                set_index(list, i, Value::Object(inner))
            }
        }
    }

    /// Skips spaces; true at the end or after a `,` (an empty value).
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => {}
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    fn json_value(&mut self) -> Result<Value, StrvalsError> {
        let rest: String = self.s[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return err(e.to_string()),
            None => return err("EOF"),
        };
        let consumed = rest[..stream.byte_offset()].chars().count();
        self.pos += consumed;
        Ok(crate::yaml::go_numbers(value))
    }

    fn val_list(&mut self) -> ListResult {
        match self.read() {
            None => return ListResult::Eof,
            Some('{') => {}
            Some(_) => {
                self.unread();
                return ListResult::NotList;
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}']);
            match last {
                Last::Eof => {
                    return ListResult::List(err("list must terminate with '}'"));
                }
                Last::Stop('}') => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread();
                    }
                    return ListResult::List(self.typed(&rs).map(|v| {
                        list.push(v);
                        list
                    }));
                }
                Last::Stop(_) => match self.typed(&rs) {
                    Ok(v) => list.push(v),
                    Err(e) => return ListResult::List(Err(e)),
                },
            }
        }
    }
}

enum ListResult {
    List(Result<Vec<Value>, StrvalsError>),
    Eof,
    NotList,
}

fn set(data: &mut Map<String, Value>, key: &str, val: Value) {
    if !key.is_empty() {
        data.insert(key.to_owned(), val);
    }
}

fn set_index(mut list: Vec<Value>, i: i64, val: Value) -> (Vec<Value>, Result<(), Stop>) {
    if i < 0 {
        return (
            list,
            Err(Stop::Err(StrvalsError(format!(
                "negative {i} index not allowed"
            )))),
        );
    }
    let i = i as usize;
    if i > MAX_INDEX {
        return (
            list,
            Err(Stop::Err(StrvalsError(format!(
                "index of {i} is greater than maximum supported index of {MAX_INDEX}"
            )))),
        );
    }
    if list.len() <= i {
        list.resize(i + 1, Value::Null);
    }
    list[i] = val;
    (list, Ok(()))
}

/// Helm's `typedVal` for `--set`.
pub fn typed_value(raw: &str) -> Value {
    if raw.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if raw.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if raw.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if raw == "0" {
        return Value::Number(Number::from(0i64));
    }
    if !raw.is_empty()
        && !raw.starts_with('0')
        && let Some(n) = go_parse_int(raw)
    {
        return Value::Number(Number::from(n));
    }
    Value::String(raw.to_owned())
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign, then ASCII digits (underscores are
/// not allowed in base 10).
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(expr: &str) -> Value {
        parse(expr)
            .map(Value::Object)
            .unwrap_or_else(|e| json!({"error": e.0}))
    }

    #[test]
    fn names_commas_lists_and_indexes() {
        assert_eq!(p("a.b=c,d=e"), json!({"a": {"b": "c"}, "d": "e"}));
        assert_eq!(p("l={a,b}"), json!({"l": ["a", "b"]}));
        assert_eq!(p("l[2]=x"), json!({"l": [null, null, "x"]}));
        assert_eq!(p("a[0].b=1,a[0].c=2"), json!({"a": [{"b": 1, "c": 2}]}));
        assert_eq!(p("m[0][1]=x"), json!({"m": [[null, "x"]]}));
        assert_eq!(p("a="), json!({"a": ""}));
    }

    #[test]
    fn escapes_keep_dots_and_commas_literal() {
        assert_eq!(
            p("podAnnotations.example\\.com/team=web"),
            json!({"podAnnotations": {"example.com/team": "web"}})
        );
        assert_eq!(p("a=x\\,y"), json!({"a": "x,y"}));
    }

    #[test]
    fn types_follow_helm_ints_are_int64() {
        let v = p("i=10,z=0,o=010,b=TRUE,n=null,f=1.5,s=abc,neg=-3");
        assert_eq!(v["i"], json!(10));
        assert!(v["i"].is_i64());
        assert_eq!(v["z"], json!(0));
        assert_eq!(v["o"], json!("010"));
        assert_eq!(v["b"], json!(true));
        assert_eq!(v["n"], Value::Null);
        assert_eq!(v["f"], json!("1.5"));
        assert_eq!(v["s"], json!("abc"));
        assert_eq!(v["neg"], json!(-3));
    }

    #[test]
    fn strings_json_and_files() -> Result<(), StrvalsError> {
        let mut m = Map::new();
        parse_into("a=10,b=true", &mut m, Mode::Strings)?;
        assert_eq!(Value::Object(m), json!({"a": "10", "b": "true"}));
        let mut m = Map::new();
        parse_into("a={\"x\":[1,2]},b=null", &mut m, Mode::Json)?;
        assert_eq!(m["a"]["x"][0].as_f64(), Some(1.0));
        assert_eq!(m["b"], Value::Null);
        let mut m = Map::new();
        let mut read = |path: &str| Ok(format!("content of {path}"));
        parse_into("cfg=file.txt", &mut m, Mode::File(&mut read))?;
        assert_eq!(m["cfg"], json!("content of file.txt"));
        Ok(())
    }

    #[test]
    fn malformed_expressions_fail_with_helms_message() {
        assert_eq!(p("a"), json!({"error": "key \"a\" has no value"}));
        assert_eq!(
            p("a,b=c"),
            json!({"error": "key \"a\" has no value (cannot end with ,)"})
        );
        assert_eq!(p("a.=c"), json!({"error": "key map \"a\" has no value"}));
        assert_eq!(
            p("l={a,b"),
            json!({"error": "list must terminate with '}'"})
        );
        assert_eq!(
            p("a[-1]=x"),
            json!({"error": "negative -1 index not allowed"})
        );
        assert_eq!(
            p("a=1,a.b=2")["error"]
                .as_str()
                .map(|s| s.starts_with("unable to parse key")),
            Some(true)
        );
    }
}
