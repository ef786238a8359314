//! Each rule is shown to catch a planted offender and to pass its compliant twin.

use crate::{Offence, Rule, Source, check_file, layer_breaches, uncalled_functions};

fn rules(offences: &[Offence]) -> Vec<Rule> {
    offences.iter().map(|offence| offence.rule).collect()
}

/// A function whose body holds `body_lines` lines.
fn function(name: &str, body_lines: usize) -> String {
    format!("pub fn {name}() {{\n{}}}\n", "    step();\n".repeat(body_lines))
}

#[test]
fn a_line_past_one_hundred_columns_is_named_with_its_line() {
    let text = format!("fn ok() {{}}\n// {}\n", "x".repeat(98));
    let offences = check_file(&Source::new("core/src/a.rs", text));
    assert_eq!(rules(&offences), [Rule::LineTooLong]);
    assert_eq!(offences[0].line, 2);
    assert!(offences[0].to_string().starts_with("core/src/a.rs:2: line too long: 101 columns"));
    let fits = format!("// {}\n", "x".repeat(97));
    assert!(check_file(&Source::new("core/src/a.rs", fits)).is_empty());
}

#[test]
fn a_file_past_six_hundred_lines_is_named() {
    let long = "const X: u8 = 1;\n".repeat(601);
    assert_eq!(rules(&check_file(&Source::new("a.rs", long))), [Rule::FileTooLong]);
    let fits = "const X: u8 = 1;\n".repeat(600);
    assert!(check_file(&Source::new("a.rs", fits)).is_empty());
}

#[test]
fn a_function_past_seventy_lines_is_named_with_its_first_line() {
    let text = format!("use x;\n\n{}", function("long", 69));
    let offences = check_file(&Source::new("a.rs", text));
    assert_eq!(rules(&offences), [Rule::FunctionTooLong]);
    assert_eq!(offences[0].line, 3);
    assert!(offences[0].detail.contains("`long` spans 71 lines"), "{}", offences[0].detail);
    assert!(check_file(&Source::new("a.rs", function("fits", 68))).is_empty());
}

#[test]
fn a_method_with_a_multi_line_signature_is_measured_to_its_own_closing_brace() {
    let body = "        step();\n".repeat(70);
    let text = format!(
        "impl X {{\n    fn declared(&self);\n\n    pub(crate) fn long(\n        a: u8,\n    ) \
         -> u8 {{\n{body}    }}\n}}\n"
    );
    let offences = check_file(&Source::new("a.rs", text));
    assert_eq!(rules(&offences), [Rule::FunctionTooLong]);
    assert_eq!(offences[0].line, 4);
    assert!(offences[0].detail.contains("spans 74 lines"), "{}", offences[0].detail);
}

#[test]
fn a_function_written_inside_a_string_or_comment_is_not_measured() {
    let text =
        format!("const S: &str = \"\n{}\";\n/*\n{}*/\n", function("a", 80), function("b", 80));
    assert!(check_file(&Source::new("a.rs", text)).is_empty());
}

#[test]
fn an_unwrap_in_library_code_is_named_but_not_in_tests_strings_or_comments() {
    let text = "fn f() {\n    x.unwrap();\n}\n";
    let offences = check_file(&Source::new("core/src/a.rs", text));
    assert_eq!(rules(&offences), [Rule::UnwrapOutsideTests]);
    assert_eq!(offences[0].line, 2);
    let quiet = [
        ("core/src/a.rs", "// x.unwrap()\nconst S: &str = \".unwrap()\";\n"),
        (
            "core/src/a.rs",
            "fn f() {}\n\n#[cfg(test)]\nmod tests {\n    fn t() { x.unwrap(); }\n}\n",
        ),
        ("core/tests/a.rs", "fn t() {\n    x.unwrap();\n}\n"),
        ("core/src/tests.rs", "fn t() {\n    x.unwrap();\n}\n"),
        ("benches/benches/a.rs", "fn b() {\n    x.unwrap();\n}\n"),
    ];
    for (path, text) in quiet {
        assert!(check_file(&Source::new(path, text)).is_empty(), "{path}: {text}");
    }
}

#[test]
fn a_public_function_nothing_names_is_an_orphan_but_one_called_or_named_in_a_derive_is_not() {
    let sources = [
        Source::new("core/src/a.rs", "pub fn orphan() {}\npub(crate) fn called() {}\n"),
        Source::new("core/src/b.rs", "fn private() {}\npub fn by_serde() -> u8 { 0 }\n"),
        Source::new("core/src/c.rs", "#[serde(default = \"by_serde\")]\nfn go() { called() }\n"),
        Source::new("core/src/d.rs", "// orphan() is only mentioned in a comment\n"),
    ];
    let offences = uncalled_functions(&sources);
    assert_eq!(rules(&offences), [Rule::FunctionWithoutCaller]);
    assert_eq!((offences[0].path.as_str(), offences[0].line), ("core/src/a.rs", 1));
    assert!(offences[0].detail.contains("`orphan`"));
}

#[test]
fn character_literals_and_lifetimes_do_not_open_a_string() {
    let text = "fn f<'a>(x: &'a str) -> char {\n    let q = '\"';\n    x.unwrap();\n    q\n}\n";
    let offences = check_file(&Source::new("core/src/a.rs", text));
    assert_eq!(rules(&offences), [Rule::UnwrapOutsideTests], "the quote in '\"' closed nothing");
}

#[test]
fn a_string_continued_at_column_zero_does_not_end_the_function_around_it() {
    let body = "    step();\n".repeat(40);
    let text = format!("fn long() {{\n{body}    let s = \"two\n\";\n{body}}}\n");
    let offences = check_file(&Source::new("a.rs", text));
    assert_eq!(rules(&offences), [Rule::FunctionTooLong], "measured past the string");
}

#[test]
fn a_core_module_that_uses_one_of_its_own_layer_or_above_breaches_the_layers() {
    let sources = [
        Source::new("core/src/store.rs", "use crate::merge::Records;\nuse crate::client::X;\n"),
        Source::new("core/src/merge/mod.rs", "fn f() {}\n\n#[cfg(test)]\nuse crate::schema::S;\n"),
        Source::new("core/src/lib.rs", "pub use client::Client;\nuse crate::server::S;\n"),
        Source::new("sim/src/a.rs", "use crate::engine::Sim;\n"),
    ];
    let offences = layer_breaches(&sources);
    assert_eq!(rules(&offences), [Rule::LayerBreach], "{offences:?}");
    assert_eq!((offences[0].path.as_str(), offences[0].line), ("core/src/store.rs", 2));
    assert!(offences[0].detail.contains("`store` uses `client`"), "{}", offences[0].detail);
}

#[test]
fn a_core_module_missing_from_the_layers_is_named() {
    let sources = [Source::new("core/src/fresh.rs", "use crate::ids::Seq;\n")];
    let offences = layer_breaches(&sources);
    assert_eq!(rules(&offences), [Rule::LayerBreach]);
    assert!(offences[0].detail.contains("no place"), "{}", offences[0].detail);
}
