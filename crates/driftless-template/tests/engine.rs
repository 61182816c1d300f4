//! Functions that call back into the template set (Helm's `include`, checked against Go), the
//! execution budget, the depth limit, and `Engine::execute_text` (what Helm's `tpl` is built on).

mod support;

use driftless_template::{ErrorKind, Func, Limits, Param, Templates, Value};
use support::{Case, Result, assert_same, data};

fn v(template: &str) -> Case {
    Case::new(
        template,
        data(r#"{"name":"web","items":["a","b"],"cfg":{"k":"v"}}"#),
    )
    .sprig()
}

#[test]
fn include_runs_like_helms() -> Result {
    assert_same(
        "include",
        &[
            v(r#"{{define "x"}}<{{.}}>{{end}}{{include "x" .name}}|{{include "x" .name | upper}}"#),
            v(r#"{{define "lines"}}a: 1
b: {{.}}{{end}}cfg:
{{ include "lines" .name | indent 2 }}"#),
            v(r#"{{define "x"}}{{.nope.deeper}}{{end}}{{include "x" 3}}"#),
            v(r#"{{include "missing" .}}"#),
            v(
                r#"{{define "a"}}A{{include "b" .}}{{end}}{{define "b"}}B{{.name}}{{end}}{{include "a" .}}"#,
            ),
            v(r#"{{define "a"}}{{include "b" .}}{{end}}{{define "b"}}
{{fail "inner"}}{{end}}{{include "a" .}}"#),
            v(
                r#"{{define "set"}}{{$_ := set . "added" "yes"}}{{end}}{{include "set" .cfg}}{{.cfg.added}}"#,
            ),
            v(
                r#"{{define "r"}}{{range .}}[{{.}}]{{end}}{{end}}{{include "r" .items}}{{include "r" .missing}}"#,
            ),
            v(r#"{{include 3 .}}"#),
        ],
    )
}

fn run(t: &Templates, text: &str) -> std::result::Result<String, driftless_template::Error> {
    let mut t = t.clone();
    t.parse("t", text)?;
    t.execute("t", &Value::Nil)
}

#[test]
fn a_runaway_loop_is_stopped_by_the_step_budget() {
    let mut t = Templates::new("budget");
    t.limits(Limits {
        max_steps: 10_000,
        ..Limits::default()
    });
    let err = run(&t, "{{range 1000000}}{{.}}{{end}}").err();
    let err = err.as_ref().map(|e| (e.kind(), e.message().to_string()));
    assert!(
        matches!(&err, Some((ErrorKind::Budget, m)) if m.contains("execution budget exceeded: more than 10000 steps")),
        "{err:?}"
    );
    // A template within the budget runs to the end.
    assert_eq!(
        run(&t, "{{range 10}}{{.}}{{end}}").ok().as_deref(),
        Some("0123456789")
    );
}

#[test]
fn huge_output_is_stopped_by_the_output_budget() {
    let mut t = Templates::new("budget");
    t.funcs(driftless_template::funcs::sprig::funcs());
    t.limits(Limits {
        max_output: 1 << 20,
        ..Limits::default()
    });
    let err = run(&t, r#"{{range 100}}{{repeat 100000 "x"}}{{end}}"#).err();
    assert_eq!(
        err.as_ref().map(|e| e.kind()),
        Some(ErrorKind::Budget),
        "{err:?}"
    );
    assert!(err.is_some_and(|e| e.message().contains("more than 1048576 bytes of output")));
}

#[test]
fn the_budget_counts_work_done_inside_include() {
    let mut t = Templates::new("budget");
    t.func("include", support::include());
    t.limits(Limits {
        max_steps: 5_000,
        ..Limits::default()
    });
    let text =
        r#"{{define "loop"}}{{range 100}}.{{end}}{{end}}{{range 1000}}{{include "loop" .}}{{end}}"#;
    let err = run(&t, text).err();
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Budget));
}

#[test]
fn endless_recursion_is_stopped_by_the_depth_limit() {
    let mut t = Templates::new("depth");
    t.limits(Limits {
        max_depth: 50,
        ..Limits::default()
    });
    let err = run(
        &t,
        r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#,
    )
    .err();
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.contains("exceeded maximum template depth (50)"),
        "{msg}"
    );
}

#[test]
fn execute_text_sees_the_set_and_keeps_its_definitions_to_itself() -> Result {
    let mut t = Templates::new("tpl");
    t.func(
        "tpl",
        Func::with_engine(&[Param::String, Param::Any], None, |ctx, a| {
            ctx.execute_text("inline", a[0].as_str().unwrap_or_default(), &a[1])
                .map(Value::str)
        }),
    );
    t.parse("helpers", r#"{{define "greet"}}hello {{.}}{{end}}"#)?;
    t.parse("main", r#"{{tpl "{{define \"local\"}}L{{end}}{{template \"greet\" .}}/{{template \"local\"}}" "you"}}"#)?;
    assert_eq!(t.execute("main", &Value::Nil)?, "hello you/L");
    // What the text defined is gone afterwards.
    assert!(!t.has("local"));
    let err = t
        .parse("bad", r#"{{tpl "{{.x.y}}" 3}}"#)?
        .execute("bad", &Value::Nil)
        .err();
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some(
            r#"template: bad:1:2: executing "bad" at <tpl "{{.x.y}}" 3>: error calling tpl: template: inline:1:4: executing "inline" at <.x.y>: can't evaluate field x in type int"#
        )
    );
    Ok(())
}

#[test]
fn execute_text_of_blank_text_runs_that_text_not_an_earlier_one() -> Result {
    // Go's `t.New(name).Parse(text)` executes the new template even when its text is blank
    // and the set keeps an earlier definition of the name: a `tpl` of blank text inside a
    // `tpl` gives nothing (and does not run the outer text again, forever).
    let mut t = Templates::new("tpl");
    t.func(
        "tpl",
        Func::with_engine(&[Param::String, Param::Any], None, |ctx, a| {
            ctx.execute_text("gotpl", a[0].as_str().unwrap_or_default(), &a[1])
                .map(Value::str)
        }),
    );
    t.parse("main", r#"{{tpl "<{{tpl \"  \" .}}|{{tpl \"\" .}}>" .}}"#)?;
    assert_eq!(t.execute("main", &Value::Nil)?, "<  |>");
    Ok(())
}

#[test]
fn a_range_with_an_empty_body_counts_against_the_budget() {
    let mut t = Templates::new("budget");
    t.limits(Limits {
        max_steps: 10_000,
        ..Limits::default()
    });
    let err = run(&t, "{{range 100000000000}}{{end}}").err();
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Budget));
}

#[test]
fn a_later_parse_replaces_a_definition_unless_it_is_empty() -> Result {
    let mut t = Templates::new("set");
    t.parse("a.tpl", r#"{{define "x"}}first{{end}}"#)?;
    t.parse("b.tpl", r#"{{define "x"}}second{{end}}"#)?;
    t.parse("c.tpl", r#"{{define "x"}}  {{end}}"#)?;
    t.parse("main", r#"{{template "x"}}"#)?;
    assert_eq!(t.execute("main", &Value::Nil)?, "second");
    let missing = t.execute("nope", &Value::Nil).err().map(|e| e.to_string());
    assert_eq!(
        missing.as_deref(),
        Some(r#"template: no template "nope" associated with template "set""#)
    );
    Ok(())
}

/// Untrusted templates cannot overflow the stack: nesting is bounded (Go's stacks grow; ours
/// do not), and a render at the bound runs on a 2 MiB thread.
#[test]
fn deep_nesting_is_refused_before_it_overflows_the_stack() -> Result {
    let nested = |n: usize| "{{if true}}".repeat(n) + "x" + &"{{end}}".repeat(n);
    let mut t = Templates::new("deep");
    t.parse("ok", &nested(100))?;
    assert_eq!(t.execute("ok", &Value::Nil)?, "x");
    let err = t.parse("deep", &nested(101)).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "template: deep:1: max nesting depth exceeded (100 levels of if, with, range and block)"
        )
    );
    let parens = |n: usize| format!("{{{{{}1{}}}}}", "(".repeat(n), ")".repeat(n));
    t.parse("parens", &parens(100))?;
    assert_eq!(t.execute("parens", &Value::Nil)?, "1");
    let err = t.parse("parens", &parens(101)).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("template: parens:1: max expression depth exceeded")
    );
    Ok(())
}

/// A map set into itself (`set $d "self" $d`) cannot make printing or JSON recurse forever.
#[test]
fn a_map_that_contains_itself_does_not_crash_the_render() -> Result {
    let mut t = Templates::new("cycle");
    t.funcs(driftless_template::funcs::sprig::funcs());
    t.parse("t", r#"{{$d := dict "a" 1}}{{$_ := set $d "self" $d}}{{len $d}}|{{toJson $d | len}}|{{$d | printf "%v" | len}}"#)?;
    let out = t.execute("t", &Value::Nil);
    assert!(
        out.is_ok()
            || out
                .as_ref()
                .is_err_and(|e| e.message().contains("too deep")),
        "{out:?}"
    );
    Ok(())
}
