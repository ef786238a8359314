//! The per-file checks, and the reading of a file into code without comments.

use std::io;
use std::path::Path;

use crate::{FILE_LINES_MAX, FUNCTION_LINES_MAX, LINE_COLUMNS_MAX, Offence, Rule, Source};

/// Every `.rs` file under `root`, in path order, leaving out build output and hidden folders.
pub fn workspace_sources(root: &Path) -> io::Result<Vec<Source>> {
    let mut sources = Vec::new();
    collect(root, root, &mut sources)?;
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(sources)
}

fn collect(root: &Path, dir: &Path, sources: &mut Vec<Source>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, sources)?;
        } else if name.ends_with(".rs") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative.to_string_lossy().replace('\\', "/");
            sources.push(Source::new(relative, std::fs::read_to_string(&path)?));
        }
    }
    Ok(())
}

/// Every per-file rule broken in `source`.
pub fn check_file(source: &Source) -> Vec<Offence> {
    let lines: Vec<&str> = source.text.lines().collect();
    let code = Code::of(&source.text);
    let offence = |line: usize, rule: Rule, detail: String| Offence {
        path: source.path.clone(),
        line,
        rule,
        detail,
    };
    let mut offences = Vec::new();
    if lines.len() > FILE_LINES_MAX {
        let detail = format!("{} lines, at most {FILE_LINES_MAX}", lines.len());
        offences.push(offence(1, Rule::FileTooLong, detail));
    }
    for (index, line) in lines.iter().enumerate() {
        let columns = line.chars().count();
        if columns > LINE_COLUMNS_MAX {
            let detail = format!("{columns} columns, at most {LINE_COLUMNS_MAX}");
            offences.push(offence(index + 1, Rule::LineTooLong, detail));
        }
    }
    for function in functions(&code) {
        if function.lines > FUNCTION_LINES_MAX {
            let detail = format!(
                "`{}` spans {} lines, at most {FUNCTION_LINES_MAX}",
                function.name, function.lines
            );
            offences.push(offence(function.line, Rule::FunctionTooLong, detail));
        }
    }
    if !source.is_test_code() {
        let tests_from = tests_start(&code.bare);
        for (index, line) in code.bare.iter().enumerate().take(tests_from) {
            if line.contains(".unwrap()") {
                let detail = "say why it cannot fail with `expect`, or return the error".into();
                offences.push(offence(index + 1, Rule::UnwrapOutsideTests, detail));
            }
        }
    }
    offences
}

/// The index of the line where a file's test module starts, or its length if it has none.
pub(crate) fn tests_start(bare: &[String]) -> usize {
    bare.iter().position(|line| line.trim_end() == "#[cfg(test)]").unwrap_or(bare.len())
}

/// A function with a body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Function {
    pub(crate) name: String,
    /// 1-based line of its `fn`.
    pub(crate) line: usize,
    /// Lines from its `fn` to its closing brace, both included.
    pub(crate) lines: usize,
}

/// Every function with a multi-line body, found by its `fn` line and the closing brace at
/// the same indentation. A declaration without a body (in a trait) ends at a `;` first.
pub(crate) fn functions(code: &Code) -> Vec<Function> {
    let bare = &code.bare;
    let mut found = Vec::new();
    for (start, line) in bare.iter().enumerate() {
        let Some((indent, _, name)) = fn_header(line) else {
            continue;
        };
        let close = format!("{}}}", " ".repeat(indent));
        let mut body_open = false;
        for (end, next) in bare.iter().enumerate().skip(start) {
            let trimmed = next.trim_end();
            let next_indent = next.len() - next.trim_start().len();
            if code.continues[end] {
                continue;
            }
            if end > start && !trimmed.is_empty() && next_indent < indent {
                break;
            }
            if next_indent == indent && !body_open {
                if trimmed.ends_with(';') || (trimmed.ends_with('}') && trimmed.contains('{')) {
                    break;
                }
                body_open = trimmed.ends_with('{');
            } else if end > start && body_open && trimmed == close {
                let lines = end - start + 1;
                found.push(Function { name: name.to_owned(), line: start + 1, lines });
                break;
            }
        }
    }
    found
}

/// The indentation, visibility and name of a line that starts a function.
pub(crate) fn fn_header(line: &str) -> Option<(usize, bool, &str)> {
    let indent = line.len() - line.trim_start().len();
    let mut rest = line.trim_start();
    let mut public = false;
    if let Some(after) = rest.strip_prefix("pub") {
        public = true;
        rest = match after.strip_prefix('(') {
            Some(scoped) => scoped.split_once(')')?.1,
            None => after,
        }
        .trim_start();
    }
    for qualifier in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(qualifier).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| (indent, public, &rest[..end]))
}

/// A file's text with its comments removed, line by line, in two forms: `bare` with the
/// contents of string and character literals blanked too (for reading code), `literal` with
/// them kept (for finding names a derive refers to by string).
#[derive(Debug, Default)]
pub(crate) struct Code {
    pub(crate) bare: Vec<String>,
    pub(crate) literal: Vec<String>,
    /// Whether each line starts inside a string or a block comment: its indentation is not
    /// the code's.
    pub(crate) continues: Vec<bool>,
}

impl Code {
    pub(crate) fn of(text: &str) -> Code {
        let mut code = Code::default();
        let mut lexer = Lexer::default();
        for line in text.lines() {
            code.continues.push(lexer.state != State::Code);
            let (bare, literal) = lexer.line(line);
            code.bare.push(bare);
            code.literal.push(literal);
        }
        code
    }
}

/// Where the lexer is between characters; strings and block comments span lines.
#[derive(Debug, Default)]
struct Lexer {
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum State {
    #[default]
    Code,
    Str,
    /// A raw string closed by `"` and this many `#`.
    RawStr(usize),
    BlockComment,
}

/// One line as the two forms of [`Code`] hold it.
#[derive(Debug, Default)]
struct Out {
    bare: String,
    literal: String,
}

impl Out {
    /// Code, or a literal's quote: kept in both forms.
    fn code(&mut self, c: char) {
        self.bare.push(c);
        self.literal.push(c);
    }
}

impl Lexer {
    fn line(&mut self, line: &str) -> (String, String) {
        let chars: Vec<char> = line.chars().collect();
        let mut out = Out::default();
        let mut i = 0;
        while i < chars.len() {
            let step = match self.state {
                State::Code => self.code(&chars, i, &mut out),
                State::Str => self.string(&chars, i, &mut out),
                State::RawStr(hashes) => self.raw_string(&chars, i, hashes, &mut out),
                State::BlockComment => self.comment(&chars, i),
            };
            let Some(step) = step else {
                break; // a line comment: the rest of the line is not code
            };
            i += step;
        }
        (out.bare, out.literal)
    }

    /// Reads code at `i`; returns the characters read, or `None` at a line comment.
    fn code(&mut self, chars: &[char], i: usize, out: &mut Out) -> Option<usize> {
        let c = chars[i];
        match (c, chars.get(i + 1).copied()) {
            ('/', Some('/')) => return None,
            ('/', Some('*')) => {
                self.state = State::BlockComment;
                return Some(2);
            }
            ('"', _) => self.state = State::Str,
            ('r', Some('"' | '#')) => {
                if let Some((hashes, skip)) = raw_start(chars, i) {
                    self.state = State::RawStr(hashes);
                    out.code('"');
                    return Some(skip + 1);
                }
            }
            ('\'', _) => {
                let len = char_literal_len(chars, i);
                if len > 0 {
                    out.bare.push_str("' '");
                    out.literal.extend(&chars[i..i + len]);
                    return Some(len);
                }
            }
            _ => {}
        }
        out.code(c);
        Some(1)
    }

    fn string(&mut self, chars: &[char], i: usize, out: &mut Out) -> Option<usize> {
        match chars[i] {
            '\\' => {
                out.literal.extend(chars.get(i..i + 2).unwrap_or(&chars[i..]));
                Some(2)
            }
            '"' => {
                self.state = State::Code;
                out.code('"');
                Some(1)
            }
            c => {
                out.literal.push(c);
                Some(1)
            }
        }
    }

    fn raw_string(
        &mut self,
        chars: &[char],
        i: usize,
        hashes: usize,
        out: &mut Out,
    ) -> Option<usize> {
        let closes =
            chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k).copied() == Some('#'));
        if closes {
            self.state = State::Code;
            out.code('"');
            return Some(1 + hashes);
        }
        out.literal.push(chars[i]);
        Some(1)
    }

    fn comment(&mut self, chars: &[char], i: usize) -> Option<usize> {
        if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            self.state = State::Code;
            return Some(2);
        }
        Some(1)
    }
}

/// If a raw string starts at `i` (`r"` or `r#…"`), its count of `#` and the characters its
/// opening spans after the `r`.
fn raw_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let preceded_by_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if preceded_by_ident {
        return None;
    }
    let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
    (chars.get(i + 1 + hashes) == Some(&'"')).then_some((hashes, hashes + 1))
}

/// The length of a character literal starting at `i` (`'x'`, `'\n'`, `'\''`), or 0 if the
/// quote starts a lifetime or label instead.
fn char_literal_len(chars: &[char], i: usize) -> usize {
    match (chars.get(i + 1), chars.get(i + 2), chars.get(i + 3)) {
        (Some('\\'), Some(_), Some('\'')) => 4,
        (Some('\\'), _, _) => {
            let close = chars[i + 2..].iter().position(|&c| c == '\'');
            close.map_or(0, |offset| offset + 3)
        }
        (Some(_), Some('\''), _) => 3,
        _ => 0,
    }
}
