//! Hand-written cases, one or more for each action, built-in function and fmt verb of Go's
//! text/template documentation, errors included: each is run by Go's own text/template
//! (testenv/go/gotemplate) and by Driftless, and the outputs (or error messages) must be
//! byte-identical.

mod support;

use support::{Case, Result, assert_same, data};

fn c(template: &str, json: &str) -> Case {
    Case::new(template, data(json))
}

const VALUES: &str = r#"{"name":"web","replicas":3,"ratio":0.25,"big":1000000,"port":8080,"on":true,"off":false,
  "empty":"","nothing":null,"list":[1,"two",3.5,null,{"k":"v"}],"strs":["b","a","c"],"nums":[3,1,2],
  "map":{"b":2,"a":1,"c":{"d":"deep"}},"emptyMap":{},"emptyList":[],"neg":-7,"zero":0,
  "text":"Hello, World <&> \"q\" 'a'","uni":"héllo wörld ☃","tab":"a\tb\nc"}"#;

fn v(template: &str) -> Case {
    c(template, VALUES)
}

#[test]
fn text_comments_and_trimming() -> Result {
    assert_same(
        "text",
        &[
            v("plain text"),
            v(""),
            v("a {{- \" b \" -}} c"),
            v("a  \n {{- .name}}"),
            v("{{.name -}}  \n\t b"),
            v("x {{/* a comment */}} y"),
            v("x {{- /* trimmed */ -}} y"),
            v("{{/* multi\nline */}}z"),
            v("a\n{{- /* c */}}\nb"),
            v("{{- 3 -}}"),
            v("{{-3}}"),
            v("{{ -3 }}"),
            v("{{.name}}\n{{- .replicas}}\n"),
            v("{{/* unclosed"),
            v("{{/* a */ x}}"),
            v("{{.name"),
            v("{{.name}"),
            v("{{ .name }} }}"),
            v("line1\nline2\n{{.missing.x}}"),
        ],
    )
}

#[test]
fn fields_variables_and_dot() -> Result {
    assert_same(
        "fields",
        &[
            v("{{.name}} {{.replicas}} {{.ratio}} {{.big}} {{.port}} {{.on}}"),
            v("{{.missing}}"),
            v("{{.missing.deeper}}"),
            v("{{.nothing}}"),
            v("{{.nothing.x}}"),
            v("{{.name.x}}"),
            v("{{.map.c.d}}"),
            v("{{.map}}"),
            v("{{.list}}"),
            v("{{.emptyMap}} {{.emptyList}}"),
            v("{{.}}"),
            v("{{$}}"),
            v("{{$x := .name}}{{$x}}"),
            v("{{$x := .map}}{{$x.c.d}}"),
            v("{{$x := 1}}{{$x = 2}}{{$x}}"),
            v("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"),
            v("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}"),
            v("{{$y}}"),
            v("{{$x := .name}}{{$x.foo}}"),
            v("{{with $x := .map}}{{$x.a}}{{end}}"),
            v("{{$.name}}"),
            v("{{range .strs}}{{$.name}}{{end}}"),
            v("{{.map.a 1}}"),
            v("{{$x := 3}}{{$x 1}}"),
            v("{{(.map).a}}"),
            v("{{(.map).c.d}}"),
            v("{{(index .list 4).k}}"),
            v("{{nil}}"),
            v("{{(nil).x}}"),
            v("{{.name | printf \"%s!\"}}"),
            v("{{\"x\" | .name}}"),
            v("{{1 | 2}}"),
            v("{{.name | 2}}"),
            v("{{. | len}}"),
            c("{{.}}", "null"),
            c("{{.x}}", "null"),
            c("{{.}}", "\"str\""),
            c("{{.x}}", "\"str\""),
            c("{{.x}}", "3"),
            c("{{.}}", "[1,2]"),
            c("{{range .}}{{.x}}{{end}}", "[null]"),
            c("{{range .}}{{.}}{{end}}", "[null,1]"),
            c("{{range .}}{{.x}}{{end}}", "[\"s\"]"),
            c("{{range $v := .}}{{$v.x}}{{end}}", "[\"s\"]"),
            c("{{range $v := .}}{{$v.x}}{{end}}", "[null]"),
            v("{{.name}}").missing_key("error"),
            v("{{.missing}}").missing_key("error"),
            v("{{.missing}}").missing_key("zero"),
            v("{{.map.zz}}").missing_key("zero"),
            c("{{.a.b}}", "null").missing_key("error"),
        ],
    )
}

#[test]
fn constants() -> Result {
    assert_same(
        "constants",
        &[
            v(
                "{{1}} {{-1}} {{+1}} {{1.5}} {{1e3}} {{1E-3}} {{0x1F}} {{0X1f}} {{0o17}} {{017}} {{0b101}}",
            ),
            v("{{1_000}} {{0x_1F}} {{1.5e+10}} {{0x1p4}} {{.5}} {{-.5}}"),
            v("{{'a'}} {{'\\n'}} {{'☃'}} {{'\\x41'}} {{'\\u00e9'}} {{'\\''}}"),
            v("{{printf \"%T %T %T %T\" 1 1.0 'a' 0x10}}"),
            v("{{printf \"%T\" 1e3}}"),
            v("{{\"a\\tb\\n\\\"c\\\"\"}}"),
            v("{{`raw\\n`}}"),
            v("{{\"\\u00e9\\U0001F600\\x41\\101\"}}"),
            v("{{true}} {{false}}"),
            v("{{99999999999999999999}}"),
            v("{{18446744073709551615}}"),
            v("{{9223372036854775807}}"),
            v("{{1_}}"),
            v("{{1x}}"),
            v("{{0x}}"),
            v("{{'ab'}}"),
            v("{{'a}}"),
            v("{{\"abc}}"),
            v("{{`abc}}"),
            v("{{\"\\q\"}}"),
            v("{{1.e3}}"),
            v("{{3 | printf \"%d\"}}"),
        ],
    )
}

#[test]
fn if_with_else() -> Result {
    assert_same(
        "if",
        &[
            v("{{if .on}}yes{{end}}"),
            v("{{if .off}}yes{{else}}no{{end}}"),
            v("{{if .missing}}yes{{else}}no{{end}}"),
            v("{{if .nothing}}yes{{else}}no{{end}}"),
            v(
                "{{if .empty}}a{{else if .zero}}b{{else if .emptyList}}c{{else if .emptyMap}}d{{else}}e{{end}}",
            ),
            v("{{if .list}}l{{end}}{{if .map}}m{{end}}{{if .neg}}n{{end}}{{if .ratio}}r{{end}}"),
            v("{{if 0}}a{{else if 0.0}}b{{else if \"\"}}c{{else}}d{{end}}"),
            v("{{with .map}}{{.a}}{{end}}"),
            v("{{with .missing}}x{{else}}none{{end}}"),
            v("{{with .empty}}x{{else with .name}}{{.}}{{end}}"),
            v("{{with .off}}x{{else with .zero}}y{{else}}z{{end}}"),
            v("{{with $x := .name}}{{$x}}{{.}}{{end}}"),
            v("{{if $x := .name}}{{$x}}{{end}}"),
            v("{{if}}{{end}}"),
            v("{{if .on}}x"),
            v("{{if .on}}x{{else}}y{{else}}z{{end}}"),
            v("{{else}}"),
            v("{{end}}"),
            v("{{with}}{{end}}"),
            v("{{if .on}}{{else if}}{{end}}"),
            v("{{if .on -}}  yes  {{- else -}} no {{- end}}"),
        ],
    )
}

#[test]
fn range() -> Result {
    assert_same(
        "range",
        &[
            v("{{range .strs}}{{.}},{{end}}"),
            v("{{range $i, $s := .strs}}{{$i}}:{{$s}} {{end}}"),
            v("{{range $s := .strs}}{{$s}}{{end}}"),
            v("{{range $k, $v := .map}}{{$k}}={{$v}};{{end}}"),
            v("{{range .map}}{{.}};{{end}}"),
            v("{{range .emptyList}}x{{else}}empty{{end}}"),
            v("{{range .emptyMap}}x{{else}}empty{{end}}"),
            v("{{range .missing}}x{{else}}missing{{end}}"),
            v("{{range .nothing}}x{{else}}nil{{end}}"),
            v("{{range 3}}{{.}}{{end}}"),
            v("{{range $i := 4}}{{$i}}{{end}}"),
            v("{{range 0}}x{{else}}none{{end}}"),
            v("{{range -2}}x{{else}}none{{end}}"),
            v("{{range $i, $v := 3}}{{end}}"),
            v("{{range .replicas}}{{.}}{{end}}"),
            v("{{range .name}}{{.}}{{end}}"),
            v("{{range .on}}{{.}}{{end}}"),
            v("{{range .list}}[{{.}}]{{end}}"),
            v("{{range $i, $e := .list}}{{if eq $i 2}}{{break}}{{end}}{{$e}} {{end}}"),
            v("{{range .strs}}{{if eq . \"a\"}}{{continue}}{{end}}{{.}}{{end}}"),
            v("{{range .nums}}{{range $.strs}}{{.}}{{end}}{{.}}|{{end}}"),
            v(
                "{{range $i, $e := .nums}}{{range $j, $f := $.strs}}{{if eq $j 1}}{{break}}{{end}}{{$i}}{{$j}} {{end}}{{end}}",
            ),
            v("{{break}}"),
            v("{{continue}}"),
            v("{{range .strs}}{{break 1}}{{end}}"),
            v("{{$x := 0}}{{range .nums}}{{$x = .}}{{end}}{{$x}}"),
            v("{{range $i, $v = .strs}}{{end}}"),
            v("{{$i := 9}}{{$v := 9}}{{range $i, $v = .strs}}{{end}}{{$i}}{{$v}}"),
            v("{{range $a, $b, $c := .strs}}{{end}}"),
            v("{{range $a, 3 := .strs}}{{end}}"),
            v("{{range .strs}}{{$x := .}}{{end}}{{$x}}"),
            v("{{range $k, $v := .map.c}}{{$k}}{{$v}}{{end}}"),
            v("{{range .strs -}} {{.}} {{- end}}"),
        ],
    )
}

#[test]
fn define_template_block() -> Result {
    assert_same(
        "define",
        &[
            v("{{define \"x\"}}X{{.}}X{{end}}{{template \"x\" .name}}"),
            v("{{define \"x\"}}[{{.}}]{{end}}{{template \"x\"}}"),
            v("{{template \"nope\"}}"),
            v("{{define `y`}}{{$}}{{end}}{{template `y` 3}}"),
            v("{{block \"b\" .name}}default {{.}}{{end}}"),
            v("{{define \"b\"}}over {{.}}{{end}}{{block \"b\" .name}}default {{.}}{{end}}"),
            v("{{define \"a\"}}1{{end}}{{define \"a\"}}2{{end}}"),
            v("{{define \"a\"}}1{{end}}{{define \"a\"}} {{end}}{{template \"a\"}}"),
            v(
                "{{define \"rec\"}}{{if .}}{{len .}}{{template \"rec\" (slice . 1)}}{{end}}{{end}}{{template \"rec\" .strs}}",
            ),
            v("{{define \"e\"}}{{.foo.bar}}{{end}}{{template \"e\" .name}}"),
            v("{{define \"e\"}}\n\n{{index . 5}}{{end}}{{template \"e\" .strs}}"),
            v("{{define x}}{{end}}"),
            v("{{define \"x\"}}"),
            v("{{define \"x\"}}{{else}}{{end}}"),
            v("{{template}}"),
            v("{{template .name}}"),
            v("{{$x := 1}}{{define \"v\"}}{{$x}}{{end}}"),
            v("{{define \"t\"}}{{.}}{{end}}{{template \"t\" .name | printf \"%s!\"}}"),
        ],
    )
}

#[test]
fn logic_and_comparison() -> Result {
    assert_same(
        "logic",
        &[
            v(
                "{{and 1 2}} {{and 0 2}} {{and 1 \"\"}} {{or 0 \"\"}} {{or 0 3}} {{or .missing .name}}",
            ),
            v("{{and .on .name}} {{or .off .empty}} {{and .missing .x.y}}"),
            v("{{and .off (index .list 99)}}"),
            v("{{or .on (index .list 99)}}"),
            v("{{and .on (index .list 99)}}"),
            v("{{and}}"),
            v("{{or 1}}"),
            v("{{.name | and 1}} {{.name | or 0}} {{.name | and 0}}"),
            v("{{not 1}} {{not 0}} {{not .missing}} {{not .list}} {{not .nothing}}"),
            v("{{not}}"),
            v("{{not 1 2}}"),
            v("{{eq 1 1}} {{eq 1 2}} {{eq \"a\" \"a\"}} {{eq .name \"web\"}} {{eq .replicas 3.0}}"),
            v("{{eq .replicas 3}}"),
            v("{{eq 1 1.0}}"),
            v("{{eq \"a\" 1}}"),
            v("{{eq .name \"x\" \"y\" \"web\"}} {{eq 1 2 3}}"),
            v("{{eq 1}}"),
            v("{{eq}}"),
            v(
                "{{eq .missing .missing}} {{eq .missing nil}} {{eq .nothing nil}} {{eq .missing 1}} {{eq 1 .missing}}",
            ),
            v("{{eq .list .list}}"),
            v("{{eq .map .map}}"),
            v("{{eq .list 1}}"),
            v("{{eq true true}} {{eq true false}}"),
            v("{{ne 1 2}} {{ne \"a\" \"a\"}} {{ne .ratio 0.25}}"),
            v("{{ne 1 \"a\"}}"),
            v(
                "{{lt 1 2}} {{lt 2 1}} {{le 2 2}} {{gt 3 2}} {{ge 2 3}} {{lt \"a\" \"b\"}} {{lt 1.5 2.5}}",
            ),
            v("{{lt .replicas 5}}"),
            v("{{lt .replicas 5.0}} {{gt .ratio 0.1}} {{le .neg -7.0}}"),
            v("{{lt true false}}"),
            v("{{lt .missing 1}}"),
            v("{{lt 1 .missing}}"),
            v("{{lt .list 1}}"),
            v("{{gt 1 \"a\"}}"),
            v("{{le 1 \"a\"}}"),
            v("{{ge .name 1}}"),
            v("{{lt -1 18446744073709551615}}"),
            v("{{eq 1 2 \"a\"}}"),
        ],
    )
}

#[test]
fn index_slice_len() -> Result {
    assert_same(
        "index",
        &[
            v(
                "{{index .strs 0}} {{index .list 4 \"k\"}} {{index .map \"a\"}} {{index .map \"c\" \"d\"}}",
            ),
            v("{{index .map \"zz\"}}"),
            v("{{index .strs 3}}"),
            v("{{index .strs 5}}"),
            v("{{index .strs -1}}"),
            v("{{index .strs \"a\"}}"),
            v("{{index .strs 1.0}}"),
            v("{{index .strs .replicas}}"),
            v("{{index .map 1}}"),
            v("{{index .map nil}}"),
            v("{{index .missing 1}}"),
            v("{{index .nothing 1}}"),
            v("{{index .name 1}}"),
            v("{{index .replicas 1}}"),
            v("{{index .list 3 1}}"),
            v("{{index .strs}}"),
            v("{{index .strs nil}}"),
            v("{{index}}"),
            v("{{printf \"%T %v %c\" (index .name 0) (index .name 1) (index .name 2)}}"),
            v(
                "{{range (index .name 0)}}{{end}}{{eq (index .name 0) 119}} {{lt (index .name 0) 200}}",
            ),
            v(
                "{{slice .strs 1}} {{slice .strs 1 2}} {{slice .strs}} {{slice .name 1 3}} {{slice .strs 0 1 2}}",
            ),
            v("{{slice .strs 2 1}}"),
            v("{{slice .strs 5}}"),
            v("{{slice .name 0 1 2}}"),
            v("{{slice .strs 1 2 3 4}}"),
            v("{{slice .missing 1}}"),
            v("{{slice .replicas 1}}"),
            v("{{slice .strs 0 3 2}}"),
            v("{{len .strs}} {{len .map}} {{len .name}} {{len .uni}} {{len .emptyList}}"),
            v("{{len .replicas}}"),
            v("{{len .missing}}"),
            v("{{len .nothing}}"),
            v("{{len 3}}"),
            v("{{len}}"),
        ],
    )
}

#[test]
fn print_functions() -> Result {
    assert_same(
        "print",
        &[
            v(
                "{{print 1 2}} {{print \"a\" \"b\"}} {{print 1 \"a\" 2}} {{print \"a\" 1 \"b\"}} {{print .list}}",
            ),
            v("{{print}}|{{println}}|{{println 1 \"a\" 2}}|"),
            v(
                "{{print .missing}} {{print .nothing}} {{print nil}} {{print .map}} {{print .ratio .big}}",
            ),
            v(
                "{{print 1.0}} {{print 100000.0}} {{print 1000000.0}} {{print 1e21}} {{print 1e20}} {{print 0.0001}} {{print 0.00001}} {{print 123456789.0}}",
            ),
            v(
                "{{print 3.14159}} {{print -0.5}} {{print 1e-7}} {{print 2.5e-5}} {{.big}} {{.port}} {{.ratio}}",
            ),
            v("{{printf}}"),
            v("{{printf 1}}"),
            v("{{printf .replicas}}"),
            v("{{printf .missing}}"),
            v("{{printf .nothing}}"),
            v(
                "{{html \"<a href='x'>&\\\"</a>\"}} {{html .text}} {{html 1 2}} {{html .missing}} {{html .nothing \"x\"}}",
            ),
            v("{{js \"a'b\\\"c\\\\d<e>f&g=h\"}} {{js .uni}} {{js .tab}} {{js 1 \"a\"}}"),
            v("{{urlquery \"a b&c=d/é?\"}} {{urlquery 1 2}} {{urlquery .missing}}"),
            v("{{call .name}}"),
            v("{{call .missing}}"),
            v("{{call}}"),
            v("{{.name | printf \"%s-%s\" \"x\"}}"),
        ],
    )
}

fn verbs(format: &str, args: &[&str]) -> Case {
    let mut t = format!("{{{{printf {:?}", format);
    for a in args {
        t.push(' ');
        t.push_str(a);
    }
    t.push_str("}}");
    v(&t)
}

#[test]
fn printf_verbs() -> Result {
    let mut cases = vec![
        verbs(
            "%s|%v|%q|%x|%X",
            &[".name", ".name", ".name", ".name", ".name"],
        ),
        verbs(
            "%d|%v|%x|%X|%o|%O|%b|%c|%q|%U|%#U",
            &[
                "65", "65", "255", "255", "8", "8", "5", "65", "65", "0x2603", "0x2603",
            ],
        ),
        verbs(
            "%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-08d|%+05d",
            &["42", "42", "42", "42", "42", "42", "42", "42", "42"],
        ),
        verbs("%d|%5d|%05d|%x|%+d", &["-42", "-42", "-42", "-255", "-3"]),
        verbs(
            "%#x|%#X|%#o|%#b|%#O|%x",
            &["255", "255", "8", "5", "8", "0"],
        ),
        verbs("%.0d|%5.0d|%.0x", &["0", "0", "0"]),
        verbs(
            "%e|%E|%f|%F|%g|%G|%v",
            &[
                "1234.5678",
                "1234.5678",
                "1234.5678",
                "1234.5678",
                "1234.5678",
                "1234.5678",
                "1234.5678",
            ],
        ),
        verbs(
            "%.2f|%8.3f|%-8.2f|%08.3f|%+.1f|% .2f|%05.2f|%.0f",
            &[
                "3.14159", "3.14159", "3.14159", "-3.14159", "3.14159", "3.14159", "1.5", "2.5",
            ],
        ),
        verbs(
            "%.3e|%.0e|%10.2e|%-10.1E|",
            &["123456.789", "5.5", "0.000123", "1e10"],
        ),
        verbs(
            "%g|%g|%g|%g|%g|%g|%g",
            &[
                "100000.0",
                "1000000.0",
                "1e-4",
                "1e-5",
                "0.0",
                "-0.0",
                "123456789.0",
            ],
        ),
        verbs(
            "%.3g|%.10g|%.1g|%.0g|%#g|%#.3g|%#v",
            &["3.14159", "3.14159", "0.15", "25.0", "1.0", "1.0", "1.0"],
        ),
        verbs(
            "%f|%e|%g|%v",
            &[".replicas", ".replicas", ".replicas", ".replicas"],
        ),
        verbs(
            "%v|%v|%v|%.2f|%5.1f",
            &[".big", ".port", ".ratio", ".ratio", ".port"],
        ),
        verbs(
            "%.1f %.1f %.1f %.1f %.2f %.0f %.0f",
            &["0.25", "0.35", "0.05", "1.45", "1.005", "0.5", "1.5"],
        ),
        verbs("%t|%v|%5t|%-6t|", &["true", "false", "true", "false"]),
        verbs(
            "%T|%T|%T|%T|%T|%T|%T|%T",
            &[
                ".name",
                ".replicas",
                ".on",
                ".list",
                ".map",
                ".missing",
                ".nothing",
                "1",
            ],
        ),
        verbs("%d", &[".name"]),
        verbs("%s", &["1"]),
        verbs("%s", &[".replicas"]),
        verbs("%d", &[".ratio"]),
        verbs("%t", &["1"]),
        verbs("%x", &[".on"]),
        verbs("%d|%s", &[".missing", ".nothing"]),
        verbs("%5d", &["\"ab\""]),
        verbs("%d %d", &["1"]),
        verbs("%d", &["1", "2", "\"x\""]),
        verbs("%d", &["1", ".missing"]),
        verbs("%!", &[]),
        verbs("100%%", &[]),
        verbs("%", &["1"]),
        verbs("%z", &["1"]),
        verbs("%[2]d %[1]d", &["1", "2"]),
        verbs("%[3]d", &["1", "2"]),
        verbs("%[0]d", &["1"]),
        verbs("%[1]d %d %d", &["1", "2"]),
        verbs("%*d|%-*d|%.*f", &["5", "42", "4", "7", "2", "3.14159"]),
        verbs("%*d", &["\"x\"", "1"]),
        verbs("%.*d", &["-1", "5"]),
        verbs(
            "%-5s|%5s|%.2s|%5.1s|%-5.3s|%05s",
            &[
                "\"ab\"",
                "\"ab\"",
                "\"abc\"",
                "\"abc\"",
                "\"abcdef\"",
                "\"ab\"",
            ],
        ),
        verbs("%q|%+q|%#q|%#q", &[".uni", ".uni", "\"a\"", "\"a`b\""]),
        verbs("%q|%q", &[".tab", ".text"]),
        verbs(
            "%x|% x|%#x|% #x|%X|%.2x|%8x",
            &[
                "\"hi\"",
                "\"hi\"",
                "\"hi\"",
                "\"hi\"",
                "\"hi\"",
                "\"hello\"",
                "\"hi\"",
            ],
        ),
        verbs("%x|%X|%x|", &["\"\"", ".uni", "\"\""]),
        verbs(
            "%v|%+v|%#v|%d|%s|%q|%x",
            &[
                ".list", ".list", ".list", ".nums", ".strs", ".strs", ".nums",
            ],
        ),
        verbs(
            "%v|%+v|%#v|%d|%s",
            &[".map", ".map", ".map", ".map", ".map"],
        ),
        verbs(
            "%v|%#v|%#v|%#v|%#v|%#v",
            &[
                ".emptyMap",
                ".emptyList",
                ".name",
                ".replicas",
                ".on",
                ".nothing",
            ],
        ),
        verbs("%5v|%-5v|%05v", &[".strs", ".nums", ".nums"]),
        verbs("%6.2f", &[".nums"]),
        verbs("%c|%c|%q", &["0x1F600", "-1", "0x110000"]),
        verbs("%U|%#U|%.6U|%#U", &["-1", "0x1F600", "0x41", "10"]),
        verbs(
            "%08.3f|%-08.3f|%+08.3f|% 08.3f",
            &["-1.5", "1.5", "1.5", "1.5"],
        ),
        verbs("%x|%X|%#x|%.3x", &["1.5", "1.5", "1.5", "1.5"]),
        verbs("%b|%o|%O", &["1.0", "-9", "-9"]),
        verbs("%e|%g|%f", &["1e100", "1e100", "1e20"]),
        verbs("%v|%v|%v", &["1e-320", "5e-324", "1.7976931348623157e308"]),
        verbs("%10.4v|%-10v|%010v", &["3.14159265", "2.5", "2.5"]),
        verbs("%#o|%#x|%#X", &["0", "-1", "-255"]),
        verbs("%+q|%#+q|%+q", &["\"☃\"", "\"é\"", "0x2603"]),
        verbs("%s|%10s|%-10s|", &[".uni", ".uni", ".uni"]),
        verbs("%.3q|%10q", &["\"abcdef\"", "\"a\""]),
        verbs("%v %d", &["true", "true"]),
        verbs("%08b|%o|%#b", &["5", "64", "0"]),
        verbs("%-+5d|%+-5d|% -5d|%0-5d", &["3", "3", "3", "3"]),
        verbs("%3c|%-3c|", &["65", "66"]),
        verbs("%#5x|%#-8x|%#08x", &["255", "255", "255"]),
        verbs("%1000001d", &["1"]),
        verbs("%.1000001d", &["1"]),
        verbs("%-010d|", &["5"]),
    ];
    cases.push(v("{{printf \"%s %d\" .name .replicas}}"));
    cases.push(v("{{printf \"%v %v\" .list .map}}"));
    cases.push(v("{{printf \"%s\" .list}}"));
    cases.push(v("{{printf \"%d\" .list}}"));
    assert_same("printf", &cases)
}

#[test]
fn function_argument_errors() -> Result {
    assert_same(
        "args",
        &[
            v("{{nosuch 1}}"),
            v("{{.name nosuch}}"),
            v("{{printf \"%d\" (len)}}"),
            v("{{len 1 2}}"),
            v("{{printf 1.5}}"),
            v("{{printf nil}}"),
            v("{{index nil 1}}"),
            v("{{(len .strs).x}}"),
            v("{{(1).x}}"),
            v("{{1.x}}"),
            v("{{\"a\".x}}"),
            v("{{.name.}}"),
            v("{{$x := 1}}{{$x.}}"),
            v("{{.name|}}"),
            v("{{|.name}}"),
            v("{{(.name}}"),
            v("{{.name)}}"),
            v("{{((((1))))}}"),
            v("{{x := 1}}"),
            v("{{$x = 1}}"),
            v("{{$x := 1 := 2}}"),
            v("{{$x, $y := 1}}"),
            v("{{1 2}}"),
            v("{{. 1}}"),
            v("{{\"a\" 1}}"),
            v("{{.name \"a\"}}"),
            v("{{#}}"),
            v("{{.name @}}"),
            v("{{é}}"),
            v("{{.a-b}}"),
            v("{{ . | not | not }}"),
            v("\n\n  {{if .on}}\n{{.name.x}}\n{{end}}"),
            v("{{if .on}}\n{{.name | printf \"%d\" | len | .x}}{{end}}"),
            v("{{with .map}}{{.c.d.e}}{{end}}"),
            v("{{range .list}}{{.k}}{{end}}"),
            v("{{template \"x\" 1 2}}"),
            v("{{if 1 2}}{{end}}"),
            v("{{\"%\" | .name}}"),
            v("{{printf \"%d%%\" .name | .x}}"),
        ],
    )
}
