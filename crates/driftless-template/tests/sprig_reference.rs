//! Sprig's functions (`sprig.TxtFuncMap()`, v3.3.0) compared with Go's own: each case runs
//! in testenv/go/gotemplate with Sprig registered and in Driftless, byte for byte.

mod support;

use support::{Case, Result, assert_same, data};

const VALUES: &str = r#"{"name":"my-app","s":"  Hello World  ","n":3,"f":2.75,"neg":-2.5,"zero":0,"b":true,
  "nil":null,"list":[1,"two",2.5,null,true,"two",1],"strs":["banana","apple","cherry"],"nums":[3,1,2],
  "nested":{"a":{"b":{"c":"deep"}},"x":1},"d1":{"a":1,"b":{"c":1,"d":2},"l":[1],"e":""},
  "d2":{"a":2,"b":{"c":3,"z":4},"l":[2,3],"e":"filled","new":"n"},"empty":{},"el":[],"es":"",
  "text":"line1\nline2\nline3","camel":"HelloWorldFooBAR","snake":"hello_world-foo bar","ver":"1.2.3",
  "html":"<a href=\"x\">&</a>","uni":"héllo wörld","num":"42","fl":"3.75","hex":"0x1F"}"#;

fn v(template: &str) -> Case {
    Case::new(template, data(VALUES)).sprig()
}

#[test]
fn strings() -> Result {
    assert_same(
        "sprig strings",
        &[
            v(
                "{{trim .s}}|{{trimAll \"-\" \"--a-b--\"}}|{{trimPrefix \"my-\" .name}}|{{trimSuffix \"-app\" .name}}|{{trimall \"ab\" \"abcba\"}}",
            ),
            v(
                "{{upper .name}}|{{lower \"ABC Déf\"}}|{{title \"hello wORLD foo_bar x-y\"}}|{{untitle \"Hello World\"}}|{{swapcase \"Hello World\"}}",
            ),
            v("{{upper .uni}}|{{title .uni}}|{{lower \"ÀÉÎ\"}}|{{upper \"straße\"}}"),
            v(
                "{{replace \"l\" \"L\" \"hello\"}}|{{\"hello\" | replace \"\" \"-\"}}|{{contains \"app\" .name}}|{{hasPrefix \"my\" .name}}|{{hasSuffix \"x\" .name}}",
            ),
            v(
                "{{quote \"a\" 1 .nil \"b\\\"c\"}}|{{squote \"a\" 2.5 .nil}}|{{quote .missing}}|{{quote .list}}|{{squote .strs}}",
            ),
            v("{{indent 4 .text}}|{{nindent 2 .text}}|{{indent 0 \"x\"}}|{{\"a\\nb\" | indent 2}}"),
            v("{{indent .n .text}}"),
            v("{{indent -1 \"x\"}}"),
            v(
                "{{trunc 5 .name}}|{{trunc -3 .name}}|{{trunc 50 .name}}|{{trunc -50 .name}}|{{trunc 0 .name}}",
            ),
            v(
                "{{abbrev 5 \"hello world\"}}|{{abbrev 3 \"hello\"}}|{{abbrev 20 \"hello\"}}|{{abbrevboth 5 10 \"1234 5678 9123\"}}|{{abbrevboth 0 4 \"abcdefgh\"}}",
            ),
            v("{{repeat 3 \"ab\"}}|{{\"x\" | repeat 0}}"),
            v("{{repeat -1 \"x\"}}"),
            v(
                "{{substr 1 3 \"hello\"}}|{{substr 0 -1 \"hello\"}}|{{substr -1 2 \"hello\"}}|{{substr 2 99 \"hello\"}}",
            ),
            v("{{substr 4 2 \"hello\"}}"),
            v("{{substr 7 9 \"hello\"}}"),
            v(
                "{{nospace \"a b\\tc\\n d\"}}|{{nospace \"none\"}}|{{initials \"hello big world\"}}|{{nospace .uni}}",
            ),
            v(
                "{{camelcase \"hello_world-foo bar\"}}|{{camelcase \"http_server\"}}|{{camelcase \"__a_b\"}}|{{camelcase \"ABC_def\"}}|{{camelcase \"\"}}",
            ),
            v(
                "{{snakecase .camel}}|{{snakecase \"HTTPServer\"}}|{{snakecase \"simpleTest\"}}|{{snakecase \"a1B2c3\"}}|{{snakecase \"Already_snake\"}}",
            ),
            v(
                "{{kebabcase .camel}}|{{kebabcase \"MyHTTPServer2Go\"}}|{{kebabcase .snake}}|{{kebabcase \"foo.bar\"}}|{{snakecase \"version 1.2 Beta\"}}",
            ),
            v(
                "{{wrap 5 \"hello world this is long\"}}|{{wrap 3 \"abcdefgh ij\"}}|{{wrapWith 4 \"<br>\" \"hello world\"}}|{{wrapWith 3 \"|\" \"abcdefgh\"}}",
            ),
            v("{{cat \"a\" 1 .nil \"b\" 2.5}}|{{cat}}|{{cat .list}}"),
            v(
                "{{plural \"one\" \"many\" 1}}|{{plural \"one\" \"many\" 2}}|{{plural \"one\" \"many\" .n}}",
            ),
            v(
                "{{toString 1}}|{{toString 2.5}}|{{toString .list}}|{{toString .nil}}|{{toString .missing}}|{{toString true}}|{{toString .nested}}",
            ),
            v(
                "{{split \"-\" .name}}|{{(split \"-\" .name)._1}}|{{splitn \"-\" 2 \"a-b-c\"}}|{{splitList \",\" \"a,b,,c\"}}|{{splitList \"\" \"abc\"}}",
            ),
            v(
                "{{join \",\" .strs}}|{{join \"-\" .list}}|{{join \",\" \"single\"}}|{{join \",\" .nums}}|{{join \",\" .nil}}",
            ),
            v(
                "{{toStrings .list}}|{{toStrings 3}}|{{sortAlpha .strs}}|{{sortAlpha .nums}}|{{sortAlpha \"x\"}}",
            ),
            v("{{upper 3}}"),
            v("{{upper .missing}}"),
            v("{{upper .nil}}"),
            v("{{trunc .n .name}}"),
            v("{{.name | upper | quote}}|{{.s | trim | lower | replace \" \" \"-\"}}"),
        ],
    )
}

#[test]
fn defaults_and_logic() -> Result {
    assert_same(
        "sprig defaults",
        &[
            v(
                "{{default \"d\" .missing}}|{{default \"d\" .nil}}|{{default \"d\" .es}}|{{default \"d\" .zero}}|{{default \"d\" .name}}|{{.missing | default \"p\"}}",
            ),
            v(
                "{{default \"d\" .el}}|{{default \"d\" .empty}}|{{default \"d\" false}}|{{default \"d\" 0.0}}|{{default 5 .n}}|{{default \"d\"}}",
            ),
            v(
                "{{empty .missing}}|{{empty .nil}}|{{empty 0}}|{{empty 1}}|{{empty .el}}|{{empty .list}}|{{empty \"\"}}|{{empty false}}|{{empty .empty}}",
            ),
            v(
                "{{coalesce .missing .nil .es 0 \"x\" \"y\"}}|{{coalesce .missing}}|{{coalesce}}|{{coalesce .el .nums}}",
            ),
            v("{{all 1 \"a\" true}}|{{all 1 0}}|{{any 0 \"\" .nil}}|{{any 0 1}}|{{all}}|{{any}}"),
            v("{{ternary \"y\" \"n\" true}}|{{ternary \"y\" \"n\" false}}|{{true | ternary 1 2}}"),
            v("{{ternary \"y\" \"n\" 1}}"),
            v("{{ternary \"y\" \"n\" .b}}"),
            v("{{fail \"boom\"}}"),
            v("{{$c := deepCopy .nested}}{{$_ := set $c \"x\" 2}}{{.nested.x}} {{$c.x}}"),
            v("{{deepCopy .missing}}|{{deepCopy 3}}|{{deepCopy .list}}"),
        ],
    )
}

#[test]
fn lists() -> Result {
    assert_same(
        "sprig lists",
        &[
            v("{{list 1 \"a\" 2.5 .nil}}|{{list}}|{{tuple 1 2}}|{{printf \"%T\" (list 1)}}"),
            v(
                "{{append .nums 4}}|{{prepend .nums 0}}|{{push .strs \"x\"}}|{{mustAppend (list) 1}}",
            ),
            v("{{append .name 1}}"),
            v("{{append .missing 1}}"),
            v("{{mustPrepend 3 1}}"),
            v(
                "{{first .strs}}|{{last .strs}}|{{rest .strs}}|{{initial .strs}}|{{first .el}}|{{last .el}}|{{rest .el}}|{{initial .el}}",
            ),
            v("{{first .name}}"),
            v("{{first .missing}}"),
            v(
                "{{reverse .nums}}|{{reverse .el}}|{{compact .list}}|{{compact (list 0 \"\" .nil false 1 \"a\")}}",
            ),
            v(
                "{{uniq .list}}|{{uniq (list 1 1.0 \"1\" 1)}}|{{without .list \"two\" 1}}|{{without .nums}}",
            ),
            v(
                "{{has \"two\" .list}}|{{has 1 .list}}|{{has 3 .nums}}|{{has 3.0 .nums}}|{{has 1 .nil}}|{{has 1 .missing}}",
            ),
            v("{{has 1 \"abc\"}}"),
            v(
                "{{slice .strs 1}}|{{slice .strs 1 2}}|{{slice .strs}}|{{slice .el}}|{{slice .nums \"1\" 2.0}}",
            ),
            v("{{slice .strs 2 1}}"),
            v("{{slice .name 1}}"),
            v("{{concat .nums .strs (list 9)}}|{{concat}}|{{concat .el}}"),
            v("{{concat .nums 1}}"),
            v("{{chunk 2 .list}}|{{chunk 3 .nums}}|{{chunk 5 .el}}"),
            v(
                "{{until 5}}|{{until 0}}|{{until -3}}|{{untilStep 0 10 3}}|{{untilStep 10 0 -4}}|{{untilStep 0 10 -1}}|{{len (until 2)}}",
            ),
            v("{{range $i := until 3}}{{$i}}{{end}}"),
            v(
                "{{seq 5}}|{{seq 0}}|{{seq -2}}|{{seq 2 5}}|{{seq 5 2}}|{{seq 0 2 10}}|{{seq 10 -3 1}}|{{seq 1 2 3 4}}|{{seq}}",
            ),
            v("{{until .n}}"),
        ],
    )
}

#[test]
fn dicts() -> Result {
    assert_same(
        "sprig dicts",
        &[
            v(
                "{{dict \"a\" 1 \"b\" \"two\"}}|{{dict}}|{{dict \"odd\"}}|{{dict 1 2 .nil 3}}|{{(dict \"k\" .nested).k.x}}",
            ),
            v(
                "{{get .nested \"x\"}}|{{get .nested \"zz\"}}|{{get .missing \"x\"}}|{{hasKey .nested \"x\"}}|{{hasKey .nested \"q\"}}|{{hasKey .missing \"q\"}}",
            ),
            v(
                "{{$d := dict \"a\" 1}}{{$_ := set $d \"b\" 2}}{{$d}}|{{set $d \"c\" 3 | len}}|{{$d}}|{{unset $d \"a\"}}|{{$d}}",
            ),
            v("{{$_ := set .nested \"added\" true}}{{.nested.added}}"),
            v("{{set .missing \"a\" 1}}"),
            v("{{unset .missing \"a\"}}"),
            v("{{set .name \"a\" 1}}"),
            v(
                "{{keys .nested | sortAlpha}}|{{keys .d1 .d2 | sortAlpha}}|{{keys}}|{{values .d2 | len}}|{{values (dict \"a\" 1)}}",
            ),
            v(
                "{{pluck \"a\" .d1 .d2 .empty}}|{{pick .d2 \"a\" \"new\" \"nope\"}}|{{omit .d2 \"a\" \"b\" \"l\"}}",
            ),
            v("{{merge (deepCopy .d1) .d2}}"),
            v("{{mergeOverwrite (deepCopy .d1) .d2}}"),
            v(
                "{{merge (dict) .d1 .d2}}|{{mergeOverwrite (dict \"a\" 0) (dict \"a\" \"\" \"b\" .nil)}}|{{merge (dict \"a\" .nil \"b\" \"\") (dict \"a\" 1 \"b\" 2)}}",
            ),
            v(
                "{{$d := deepCopy .d1}}{{$_ := merge $d .d2}}{{$d.b}}|{{mustMerge (dict \"x\" (dict \"y\" 1)) (dict \"x\" \"str\")}}|{{mustMergeOverwrite (dict \"x\" (dict \"y\" 1)) (dict \"x\" \"str\")}}",
            ),
            v(
                "{{merge (dict \"l\" (list)) (dict \"l\" (list 1))}}|{{merge (dict \"l\" (list 2)) (dict \"l\" (list 1))}}|{{mergeOverwrite (dict \"l\" (list 2)) (dict \"l\" (list))}}",
            ),
            v(
                "{{dig \"a\" \"b\" \"c\" \"none\" .nested}}|{{dig \"a\" \"x\" \"none\" .nested}}|{{dig \"x\" \"d\" .nested}}|{{dig \"zz\" \"d\" .nested}}",
            ),
            v("{{dig \"a\" \"b\" .nested}}"),
            v("{{dig \"x\" \"y\" \"d\" .nested}}"),
            v("{{dig \"a\" \"d\" .name}}"),
            v("{{dig \"a\"}}"),
            v("{{merge .name .d1}}"),
            v("{{$d := dict}}{{range $k, $v := .d2}}{{$_ := set $d $k $v}}{{end}}{{$d | len}}"),
        ],
    )
}

#[test]
fn math() -> Result {
    assert_same(
        "sprig math",
        &[
            v(
                "{{add 1 2}}|{{add 1 .f}}|{{add \"3\" 4}}|{{add}}|{{add1 .n}}|{{add1 .f}}|{{sub 5 .n}}|{{mul 2 3 4}}|{{mul .f 2}}|{{div 7 2}}|{{div -7 2}}|{{mod 7 3}}|{{mod -7 3}}",
            ),
            v("{{printf \"%T %T %T\" (add 1 2) (int 1) (float64 1)}}"),
            v("{{div 1 0}}"),
            v("{{mod 1 0}}"),
            v(
                "{{max 1 5 3}}|{{min 4 2 8}}|{{biggest .n 10}}|{{max .f}}|{{maxf 1.5 2.25 .f}}|{{minf 3 .neg}}|{{min \"7\" \"x\"}}",
            ),
            v(
                "{{floor 2.7}}|{{ceil 2.1}}|{{floor .neg}}|{{ceil .neg}}|{{round 2.5 0}}|{{round 3.14159 2}}|{{round 2.345 2 0.3}}|{{round .neg 0}}|{{round \"1.55\" 1}}",
            ),
            v(
                "{{int .f}}|{{int .neg}}|{{int \"42\"}}|{{int \"0x1F\"}}|{{int \"3.0\"}}|{{int \"3.5\"}}|{{int true}}|{{int .nil}}|{{int \"x\"}}|{{int64 .num}}|{{int64 .hex}}",
            ),
            v(
                "{{float64 \"3.75\"}}|{{float64 3}}|{{float64 \"x\"}}|{{float64 .b}}|{{float64 \"1e3\"}}|{{float64 .nil}}",
            ),
            v(
                "{{atoi \"42\"}}|{{atoi \"-7\"}}|{{atoi \"+3\"}}|{{atoi \"3.5\"}}|{{atoi \"x\"}}|{{atoi \"0x10\"}}|{{atoi \"\"}}",
            ),
            v("{{toDecimal \"0777\"}}|{{toDecimal 777}}|{{toDecimal \"8\"}}|{{toDecimal \"-17\"}}"),
            v("{{add1 .n | printf \"%d\"}}|{{len (until (int .f))}}"),
            v("{{round 2.5}}"),
        ],
    )
}

#[test]
fn regex() -> Result {
    assert_same(
        "sprig regex",
        &[
            v(
                "{{regexMatch \"^my-.*\" .name}}|{{regexMatch \"[0-9]+\" .name}}|{{regexMatch \"(\" .name}}|{{mustRegexMatch \"a.p\" .name}}",
            ),
            v(
                "{{regexFind \"[a-z]+\" \"123abc456def\"}}|{{regexFind \"x\" \"abc\"}}|{{regexFindAll \"[0-9]+\" \"a1b22c333\" -1}}|{{regexFindAll \"[0-9]+\" \"a1b22c333\" 2}}|{{regexFindAll \"a*\" \"baaab\" -1}}",
            ),
            v(
                "{{regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"${1}W\"}}|{{regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"$1W\"}}|{{regexReplaceAllLiteral \"a(x*)b\" \"-ab-axxb-\" \"${1}\"}}|{{regexReplaceAll \"x*\" \"abc\" \"-\"}}",
            ),
            v(
                "{{regexReplaceAll \"(?P<first>[a-z]+)-(?P<second>[a-z]+)\" .name \"$second.$first\"}}|{{regexReplaceAll \"\\\\s+\" .s \" \"}}",
            ),
            v(
                "{{regexSplit \"-\" .name -1}}|{{regexSplit \"a\" \"banana\" 2}}|{{regexSplit \"\" \"abc\" -1}}|{{regexSplit \"x*\" \"axbxc\" -1}}|{{regexSplit \",\" \"\" -1}}|{{regexSplit \",\" \"a,b\" 0}}",
            ),
            v("{{regexQuoteMeta \"1.5+[x]*?(a|b){2}^$\\\\\"}}"),
            v(
                "{{regexFindAll \"(?i)HELLO\" \"hello Hello\" -1}}|{{regexMatch \"^\\\\d{3}$\" \"123\"}}|{{regexFind \"\\\\bw\\\\w+\" \"hello world\"}}",
            ),
            // Go's syntax: a `-` after a class escape in a class is literal (redis-ha's check).
            v(
                "{{regexMatch \"^[\\\\w-\\\\.]+$\" \"my-group_1.a\"}}|{{regexMatch \"^[\\\\w-]+$\" \"a.b\"}}|{{regexFind \"[\\\\d-x]+\" \"a1-x2b\"}}|{{regexFind \"[[:alpha:]-]+\" \"12ab-c3\"}}|{{regexFind \"[]a-]+\" \"x]a-y\"}}",
            ),
        ],
    )
}

#[test]
fn encodings_and_hashes() -> Result {
    assert_same(
        "sprig encodings",
        &[
            v(
                "{{b64enc \"hello world\"}}|{{b64enc \"\"}}|{{b64dec \"aGVsbG8gd29ybGQ=\"}}|{{b64enc .uni | b64dec}}|{{b64dec \"aGk=\\n\"}}",
            ),
            v("{{b64dec \"!!!!\"}}|{{b64dec \"aGVsbG8\"}}|{{b64dec \"aGV=\"}}"),
            v(
                "{{b32enc \"hello\"}}|{{b32enc \"a\"}}|{{b32enc \"abcdef\"}}|{{b32dec \"NBSWY3DP\"}}|{{b32enc .uni | b32dec}}|{{b32dec \"MFRGG===\"}}",
            ),
            v(
                "{{sha1sum \"hello\"}}|{{sha256sum \"hello\"}}|{{sha512sum \"x\"}}|{{adler32sum \"hello world\"}}|{{adler32sum \"\"}}|{{sha256sum .uni}}",
            ),
            v(
                "{{toJson .nested}}|{{toJson .list}}|{{toJson .html}}|{{toJson .nil}}|{{toJson .missing}}|{{toJson 1}}|{{toJson 2.5}}|{{toJson .el}}|{{toJson .empty}}",
            ),
            v(
                "{{toJson 1e21}}|{{toJson 1e20}}|{{toJson 0.000001}}|{{toJson 0.0000001}}|{{toJson 1e-10}}|{{toJson 123456789.125}}|{{toJson -0.0}}|{{toJson 1.5e300}}",
            ),
            v(
                "{{toJson \"tab\\there\\nnew \\u0001 \\u2028 é\"}}|{{toRawJson .html}}|{{toRawJson .nested}}",
            ),
            v(
                "{{toPrettyJson .d2}}|{{toPrettyJson .el}}|{{toPrettyJson 3}}|{{toPrettyJson (list (dict) (list) 1)}}",
            ),
            v(
                "{{fromJson \"{\\\"a\\\":[1,2,{\\\"b\\\":null}]}\"}}|{{(fromJson \"{\\\"n\\\":5}\").n | printf \"%T\"}}|{{fromJson \"bad\"}}|{{fromJson \"3\"}}|{{fromJson \"\\\"s\\\"\"}}",
            ),
            v("{{.d2 | toJson | fromJson | toJson}}"),
        ],
    )
}

#[test]
fn type_tests_and_paths() -> Result {
    assert_same(
        "sprig reflect",
        &[
            v(
                "{{typeOf .name}}|{{typeOf .n}}|{{typeOf 1}}|{{typeOf .list}}|{{typeOf .nested}}|{{typeOf .nil}}|{{typeOf .b}}|{{typeOf (add 1 1)}}",
            ),
            v(
                "{{kindOf .name}}|{{kindOf .n}}|{{kindOf 1}}|{{kindOf .list}}|{{kindOf .nested}}|{{kindOf .nil}}|{{kindOf .missing}}|{{kindOf (until 2)}}",
            ),
            v(
                "{{kindIs \"map\" .nested}}|{{kindIs \"slice\" .strs}}|{{kindIs \"string\" .n}}|{{typeIs \"float64\" .n}}|{{typeIsLike \"string\" .name}}|{{typeIs \"int\" 3}}",
            ),
            v(
                "{{deepEqual .d1 .d1}}|{{deepEqual .d1 .d2}}|{{deepEqual 1 1.0}}|{{deepEqual (list 1 \"a\") (list 1 \"a\")}}|{{deepEqual .nil .missing}}",
            ),
            v(
                "{{base \"/a/b/c.txt\"}}|{{base \"a/\"}}|{{base \"\"}}|{{base \"/\"}}|{{dir \"/a/b/c\"}}|{{dir \"c\"}}|{{dir \"/\"}}|{{dir \"a/b/\"}}",
            ),
            v(
                "{{clean \"a//b/./c/../d/\"}}|{{clean \"\"}}|{{clean \"/../x\"}}|{{clean \"../../a\"}}|{{ext \"a/b.tar.gz\"}}|{{ext \"a.b/c\"}}|{{isAbs \"/x\"}}|{{isAbs \"x\"}}|{{osBase \"/p/q\"}}",
            ),
            v("{{hello}}"),
        ],
    )
}

#[test]
fn semver() -> Result {
    let checks = [
        (">=1.19-0", "v1.30.0"),
        (">=1.19-0", "v1.30.0-gke.1"),
        (">=1.19", "v1.30.0-gke.1"),
        ("<1.19", "1.18.5"),
        ("^1.2.3", "1.9.0"),
        ("^1.2.3", "2.0.0"),
        ("^0.2.3", "0.2.9"),
        ("^0.2.3", "0.3.0"),
        ("^0.0.3", "0.0.3"),
        ("~1.2.3", "1.2.9"),
        ("~1.2.3", "1.3.0"),
        ("~1", "1.9.9"),
        ("1.2.x", "1.2.7"),
        ("1.2.x", "1.3.0"),
        ("*", "4.5.6"),
        ("", "1.0.0"),
        ("1.2 - 1.4.5", "1.4.0"),
        ("1.2 - 1.4.5", "1.4.6"),
        (">1.2", "1.2.5"),
        (">1.2", "1.3.0"),
        ("<=1.2", "1.2.9"),
        ("<=1.2", "1.3.0"),
        ("!=1.2.3", "1.2.3"),
        ("!=1.2.x", "1.2.8"),
        ("!=1.2.x", "1.3.0"),
        (">= 1.2, < 2.0", "1.5.0"),
        (">= 1.2 < 2.0", "2.0.0"),
        ("<1.0 || >=2.0", "2.1.0"),
        ("<1.0 || >=2.0", "1.5.0"),
        ("=1.2.3", "1.2.3+build.5"),
        (">=1.0.0-alpha", "1.0.0-beta"),
        (">=1.0.0-beta.2", "1.0.0-beta.11"),
        (">=1.0.0-rc.1", "1.0.0-alpha"),
        ("1.x", "v1.8"),
        (">=1.19.0-0", "1.19"),
        ("bad constraint", "1.0.0"),
        (">=1.0", "not-a-version"),
        (">=1.0", "1.02.3"),
        (">=1.0", "1.2.3-01"),
    ];
    let mut cases: Vec<Case> = checks
        .iter()
        .map(|(c, ver)| v(&format!("{{{{semverCompare {c:?} {ver:?}}}}}")))
        .collect();
    cases.push(v(r#"{{$v := semver "v1.2.3-beta.1+meta"}}{{$v.Major}}.{{$v.Minor}}.{{$v.Patch}}|{{$v.Prerelease}}|{{$v.Metadata}}|{{$v.Original}}|{{$v}}|{{typeOf $v}}"#));
    cases.push(v(r#"{{(semver "2").Minor}}|{{semver "1.2"}}"#));
    cases.push(v(r#"{{semver "x.y"}}"#));
    cases.push(v(r#"{{(semver "1.2.3").Nope}}"#));
    assert_same("sprig semver", &cases)
}

#[test]
fn dates() -> Result {
    assert_same(
        "sprig dates",
        &[
            v(
                "{{now}}|{{now | date \"2006-01-02T15:04:05Z07:00\"}}|{{date \"Mon Jan 2 15:04:05 MST 2006\" now}}|{{now | unixEpoch}}|{{htmlDate now}}",
            ),
            v(
                "{{date \"02/01/06 03:04:05 PM .000 .999 ,00 -0700 -07:00 Z0700 _2 __2 002 January Monday\" now}}",
            ),
            v(
                "{{dateInZone \"2006-01-02 15:04 MST -07:00\" now \"America/New_York\"}}|{{dateInZone \"15:04 MST\" now \"Asia/Kolkata\"}}|{{dateInZone \"15:04 MST\" now \"Nowhere/Bad\"}}|{{htmlDateInZone now \"Pacific/Kiritimati\"}}",
            ),
            v(
                "{{date \"2006-01-02 15:04:05\" 86400}}|{{date \"2006-01-02\" (int64 1700000000)}}|{{dateInZone \"3:4:5 pm\" 0 \"UTC\"}}",
            ),
            v(
                "{{now | dateModify \"1.5h\" | date \"15:04\"}}|{{now | dateModify \"-36h10m\" | date \"Jan 2 15:04\"}}|{{now | dateModify \"bad\" | date \"15:04\"}}|{{now | dateModify \"250ms\"}}",
            ),
            v("{{now | mustDateModify \"5x\"}}"),
            v(
                "{{duration 3661}}|{{duration \"59\"}}|{{duration 0}}|{{duration \"x\"}}|{{duration (int64 90061)}}|{{duration -5}}",
            ),
            v("{{(now).Unix}}|{{(now).Year}}|{{(now).UTC}}|{{now | typeOf}}"),
        ],
    )
}

/// Differences the generated templates found, kept as fixed cases: Sprig's `[]string` and
/// `[]int` results are typed slices in Go (their elements are not interfaces).
#[test]
fn typed_slices() -> Result {
    assert_same(
        "sprig typed slices",
        &[
            v(
                "{{typeOf (splitList \",\" \"a,b\")}}|{{typeOf (until 2)}}|{{typeOf (keys .nested)}}|{{typeOf (sortAlpha .strs)}}|{{typeOf (toStrings .nums)}}|{{typeOf (regexFindAll \"a\" \"aa\" -1)}}",
            ),
            v(
                "{{printf \"%#v\" (splitList \",\" \"a,b\")}}|{{printf \"%#v\" (until 3)}}|{{typeOf (slice (until 4) 1 3)}}|{{typeOf (rest (until 4))}}|{{typeOf (append (until 2) 5)}}",
            ),
            v("{{define \"d\"}}{{.x}}{{end}}{{template \"d\" until 3}}"),
            v("{{hasPrefix (until 3) .name}}"),
            v("{{range splitList \",\" \"a,b\"}}{{.x}}{{end}}"),
            v("{{range $v := until 2}}{{$v.x}}{{end}}"),
            v(
                "{{deepEqual (splitList \",\" \"a\") (list \"a\")}}|{{deepEqual (until 2) (until 2)}}|{{has \"a\" (splitList \",\" \"a\")}}|{{index (splitList \",\" \"a,b\") 1}}|{{slice (splitList \",\" \"a,b,c\") 1}}",
            ),
            v("{{eq (until 2) (until 2)}}"),
        ],
    )
}

#[test]
fn decimal_floats() -> Result {
    assert_same(
        "sprig decimal floats",
        &[
            v(
                "{{addf 0.1 0.2}}|{{addf 1 2 3.5}}|{{addf}}|{{add1f 1.5}}|{{add1f .f}}|{{subf 1 0.9}}|{{subf 10 1 2 3}}|{{subf .f}}",
            ),
            v(
                "{{mulf 1.1 3}}|{{mulf 0.1 0.1 10}}|{{mulf .f .neg}}|{{mulf 1e20 1e20}}|{{mulf 3}}|{{mulf 1e-200 1e-200}}",
            ),
            v(
                "{{divf 10 3}}|{{divf 1 3}}|{{divf 2 3}}|{{divf -7 2}}|{{divf -2 3}}|{{divf 1 8}}|{{divf 1e-20 3}}|{{divf 5}}|{{divf 1e30 7}}",
            ),
            v("{{divf 1 0}}"),
            v(
                "{{addf \"1.5\" \"x\" true}}|{{printf \"%T\" (addf 1 1)}}|{{mulf 0.07 100}}|{{divf 0.3 0.1}}|{{subf 0.3 0.1}}",
            ),
        ],
    )
}
