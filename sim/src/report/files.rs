//! The report folder: `reports/<run>/` with every file of the report, and `reports/latest`
//! pointing at the newest one.

use std::fmt;
use std::path::{Path, PathBuf};

use super::summary::{SCHEMA_NAME, SCHEMA_VERSION, Summary};
use super::{hgrm, html, junit, markdown};

/// The name of the pointer to the newest report, beside the report folders.
pub const LATEST: &str = "latest";

/// A report that could not be written or read, naming the file at fault.
#[derive(Debug)]
pub struct ReportError {
    pub path: PathBuf,
    pub kind: ReportErrorKind,
    pub message: String,
}

/// Whose fault a [`ReportError`] is, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportErrorKind {
    /// The input is missing, corrupt or of another schema version: fix or regenerate it.
    BadInput,
    /// The folder cannot be written: check the disk and permissions.
    Write,
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ReportError {}

/// Writes every file of `summary` into `root/<name>` (or `<name>-2`, … if taken), points
/// `root/latest` at it, and returns the folder.
pub fn write_report(root: &Path, name: &str, summary: &Summary) -> Result<PathBuf, ReportError> {
    let failed = write_error("the report");
    let dir = new_folder(root, name, "the report")?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| failed(&dir, &e))?;
    let junit = junit::render(summary).map_err(|e| failed(&dir, &e))?;
    let mut files = vec![
        ("summary.json".to_owned(), json + "\n"),
        ("summary.md".to_owned(), markdown::render(summary)),
        ("index.html".to_owned(), html::render(summary)),
        ("junit.xml".to_owned(), junit),
    ];
    for scenario in &summary.scenarios {
        for (metric, distribution) in &scenario.distributions {
            let text = hgrm::percentile_text(&distribution.distribution());
            files.push((format!("{}.{metric}.hgrm", file_word(&scenario.name)), text));
        }
    }
    for (file, contents) in files {
        let path = dir.join(file);
        std::fs::write(&path, contents).map_err(|e| failed(&path, &e))?;
    }
    point_latest(root, &dir).map_err(|e| failed(&root.join(LATEST), &e))?;
    Ok(dir)
}

/// Writes the verdict of a determinism check, `document`, as `determinism.json` into a new
/// folder `root/<name>` (or `<name>-2`, …) and returns the file. `latest` keeps pointing at the
/// newest sweep report, which `report merge` and the CI examples read.
pub fn write_determinism(
    root: &Path,
    name: &str,
    document: &serde_json::Value,
) -> Result<PathBuf, ReportError> {
    let failed = write_error("the determinism verdict");
    let dir = new_folder(root, name, "the determinism verdict")?;
    let path = dir.join("determinism.json");
    let text = serde_json::to_string_pretty(document).map_err(|e| failed(&path, &e))?;
    std::fs::write(&path, text + "\n").map_err(|e| failed(&path, &e))?;
    Ok(path)
}

/// Reads the `summary.json` of a report folder, checking its schema and version.
pub fn read_summary(dir: &Path) -> Result<Summary, ReportError> {
    let bad = |path: &Path, message: String| ReportError {
        path: path.to_owned(),
        kind: ReportErrorKind::BadInput,
        message,
    };
    if !dir.is_dir() {
        return Err(bad(dir, "no such report folder".to_owned()));
    }
    let path = dir.join("summary.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(&path, format!("not JSON: {e}")))?;
    if value.get("schema").and_then(|s| s.as_str()) != Some(SCHEMA_NAME) {
        return Err(bad(
            &path,
            format!("not a driftsync report (`schema` is not \"{SCHEMA_NAME}\")"),
        ));
    }
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(SCHEMA_VERSION)) {
        let found = version.map_or_else(|| "none".to_owned(), |v| v.to_string());
        return Err(bad(
            &path,
            format!("schema version {found}; this driftsync reads version {SCHEMA_VERSION}"),
        ));
    }
    serde_json::from_value(value).map_err(|e| bad(&path, format!("corrupt summary: {e}")))
}

/// A report folder name from a UTC instant (seconds since 1970) and the command:
/// `YYYYMMDD-HHMMSS-command`.
pub fn folder_name(utc_s: u64, command: &str) -> String {
    let (date, time) = civil(utc_s);
    format!("{}-{}-{command}", date.replace('-', ""), time.replace(':', ""))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a UTC instant in seconds since 1970.
pub fn iso_utc(utc_s: u64) -> String {
    let (date, time) = civil(utc_s);
    format!("{date}T{time}Z")
}

/// Date and time of day of a UTC instant in seconds.
fn civil(utc_s: u64) -> (String, String) {
    driftsync_core::WallTime(utc_s.saturating_mul(1_000)).civil()
}

/// The error of failing to write `what` at a path.
fn write_error(what: &str) -> impl Fn(&Path, &dyn fmt::Display) -> ReportError + '_ {
    move |path, error| ReportError {
        path: path.to_owned(),
        kind: ReportErrorKind::Write,
        message: format!("cannot write {what}: {error}"),
    }
}

/// Creates `root/<name>` (or `<name>-2`, … if taken), `root` too if missing, for `what`.
fn new_folder(root: &Path, name: &str, what: &str) -> Result<PathBuf, ReportError> {
    let failed = write_error(what);
    std::fs::create_dir_all(root).map_err(|e| failed(root, &e))?;
    let dir = free_folder(root, name);
    std::fs::create_dir(&dir).map_err(|e| failed(&dir, &e))?;
    Ok(dir)
}

fn free_folder(root: &Path, name: &str) -> PathBuf {
    let mut dir = root.join(name);
    let mut number = 2;
    while dir.exists() {
        dir = root.join(format!("{name}-{number}"));
        number += 1;
    }
    dir
}

/// Points `root/latest` at `dir`: a relative symlink swapped in by rename, so a reader never
/// sees it missing. Where symlinks are unavailable, `latest` is a text file naming the folder.
fn point_latest(root: &Path, dir: &Path) -> std::io::Result<()> {
    let target = dir.file_name().map(PathBuf::from).unwrap_or_else(|| dir.to_owned());
    let staging = root.join(format!(".{LATEST}-{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &staging)?;
    #[cfg(not(unix))]
    std::fs::write(&staging, target.display().to_string())?;
    std::fs::rename(&staging, root.join(LATEST))
}

/// A scenario name as part of a file name: anything but letters, digits, `-` and `_` becomes `_`.
fn file_word(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: folder names and timestamps are right across leap years and at the epoch.
    #[test]
    fn utc_instants_format_as_calendar_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(folder_name(1_767_225_599, "sweep"), "20251231-235959-sweep");
    }

    /// Goal: a scenario name can never escape the report folder through its file names.
    #[test]
    fn scenario_names_become_safe_file_words() {
        assert_eq!(file_word("partition-heal"), "partition-heal");
        assert_eq!(file_word("../etc/x y"), "___etc_x_y");
    }
}
