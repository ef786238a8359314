//! The app's schema file is read through the same checks as a lineage built in code, and
//! every error names the file, the line and the field.

use driftsync_core::{FieldType, SchemaFileError, SchemaLineage, Value};

const SHIPPED: &str = include_str!("../../schemas/notes.toml");

fn refused(text: &str) -> SchemaFileError {
    SchemaLineage::from_toml("app.toml", text).expect_err("the file is refused")
}

const BASE: &str = "
[collections.notes]
title = { type = \"string\", required = true }
count = { type = \"i64\", merge = \"counter\" }
";

#[test]
fn the_shipped_schema_file_builds_three_versions_of_the_notes_app() {
    let lineage = SchemaLineage::from_toml("schemas/notes.toml", SHIPPED).expect("it is valid");
    assert_eq!((lineage.first(), lineage.latest()), (1, 3));
    let v2 = lineage.schema(2).expect("v2");
    let priority = v2.field("notes", "priority").expect("v2 adds priority");
    assert_eq!(priority.default, Some(Value::I64(0)));
    assert!(v2.field("notes", "notes").is_some() && v2.field("notes", "body").is_none());
    let v3 = lineage.latest_schema();
    assert_eq!(v3.field("notes", "done").expect("done").ty, FieldType::I64);
    assert!(!v3.shows("notes", "blob"), "v3 retires blob");
    assert_eq!(lineage.one_way_between(1, 3), None, "every step can be undone");
}

#[test]
fn an_unknown_type_is_named_with_its_line_and_field() {
    let error =
        refused("[collections.notes]\ntitle = { type = \"string\" }\nsize = { type = \"u32\" }\n");
    assert_eq!((error.line, error.field.as_deref()), (3, Some("notes.size")));
    assert!(error.problem.contains("unknown type `u32`"), "{error}");
    assert!(error.to_string().starts_with("app.toml:3: notes.size: "), "{error}");
}

#[test]
fn a_misspelt_key_is_refused_rather_than_ignored() {
    let error = refused("[collections.notes]\ntitle = { type = \"string\", requird = true }\n");
    assert_eq!(error.line, 2);
    assert!(error.problem.contains("requird"), "{error}");
}

#[test]
fn a_default_of_the_wrong_type_is_refused() {
    let error = refused("[collections.notes]\ndone = { type = \"bool\", default = \"no\" }\n");
    assert_eq!(error.field.as_deref(), Some("notes.done"));
    assert!(error.problem.contains("not a bool"), "{error}");
}

#[test]
fn a_counter_of_strings_is_refused_like_a_lineage_built_in_code() {
    let error = refused("\n[collections.notes]\nn = { type = \"string\", merge = \"counter\" }\n");
    assert_eq!(error.field.as_deref(), Some("notes.n"));
    assert!(error.problem.contains("a counter counts i64"), "{error}");
}

#[test]
fn an_added_field_without_a_default_is_refused_at_its_step() {
    let steps = [
        r#"{ step = "remove-field", collection = "notes", field = "count" },"#,
        r#"{ step = "add-field", collection = "notes", field = "due", type = "i64" },"#,
    ];
    let text = format!("{BASE}\n[[versions]]\nversion = 2\nsteps = [\n{}\n]\n", steps.join("\n"));
    let error = refused(&text);
    assert_eq!((error.line, error.field.as_deref()), (10, Some("notes.due")));
    assert!(error.problem.contains("needs a default"), "{error}");
}

#[test]
fn a_step_on_a_missing_field_is_refused_at_its_step() {
    let step = r#"{ step = "rename-field", collection = "notes", from = "body", to = "text" },"#;
    let text = format!("{BASE}\n[[versions]]\nversion = 2\nsteps = [\n{step}\n]\n");
    let error = refused(&text);
    assert_eq!((error.line, error.field.as_deref()), (9, Some("notes.body")));
    assert!(error.problem.contains("v2: no such field to rename"), "{error}");
}

#[test]
fn versions_must_count_up_by_one() {
    let error = refused(&format!("{BASE}\n[[versions]]\nversion = 3\nsteps = []\n"));
    assert!(error.problem.contains("version 3 follows 1"), "{error}");
}

#[test]
fn text_that_is_not_toml_is_refused_with_its_line() {
    let error = refused("[collections.notes]\ntitle = { type = \"string\"\n");
    assert_eq!(error.line, 2, "{error}");
}

#[test]
fn a_lineage_read_through_serde_replays_the_checks_of_evolve() {
    let lineage = SchemaLineage::from_toml("schemas/notes.toml", SHIPPED).expect("it is valid");
    let value = toml::Value::try_from(&lineage).expect("a lineage serializes");
    let back: SchemaLineage = value.clone().try_into().expect("a valid lineage reads back");
    assert_eq!(back, lineage);
    // The v2 rename of `body`, pointed at a field that does not exist.
    let mut broken = value;
    let rename = &mut broken["steps"][0][1]["RenameField"];
    rename["from"] = toml::Value::String("nonexistent".into());
    let error = broken.try_into::<SchemaLineage>().expect_err("the broken step is refused");
    assert!(error.to_string().contains("no such field to rename"), "{error}");
}
