//! `--env-file FILE`: dotenv files read the way python-dotenv reads them,
//! so a `.env` that works with `load_dotenv()` gives the function the same
//! variables here.
//!
//! Owns: the dotenv syntax (python-dotenv 1.2's parser, rule for rule:
//! `export`, `#` comments, single and double quotes with their escapes,
//! multi-line quoted values, `${VAR}` and `${VAR:-default}` expansion), the
//! order several files are applied in, and the typed error for a line it
//! cannot read (file and line, never the line's text: it may hold a secret).
//!
//! Must not: touch the process environment, or know about `--env` (the
//! caller applies `--env` after these, so `--env` wins).
//!
//! Several files behave as python-dotenv's `load_dotenv(FILE, override=True)`
//! called once per file in order: a later file wins, and `${VAR}` sees the
//! values of earlier lines and earlier files before portside-local's own
//! environment. A key with no `=` sets nothing (as `load_dotenv` skips it).
//! Where python-dotenv warns and skips a line it cannot parse, this refuses
//! the file, naming the line.

use regex::Regex;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why a dotenv file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    /// The file.
    pub file: PathBuf,
    /// What went wrong.
    pub kind: DotenvErrorKind,
}

/// What went wrong with a dotenv file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotenvErrorKind {
    /// The file could not be read.
    Unreadable(String),
    /// The file is not UTF-8 text.
    NotUtf8,
    /// A statement starting on this line (1-based) is not dotenv syntax.
    Malformed {
        /// The line the statement starts on.
        line: usize,
        /// What the parser saw there.
        why: Malformed,
    },
}

/// The kinds of line the parser refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A quote opens a value and never closes.
    UnclosedQuote,
    /// The line has no key before `=` (or starts with a quote that is not
    /// a quoted key).
    NoKey,
    /// Something other than a comment follows the value or the key.
    TrailingText,
}

impl DotenvError {
    /// Whether a line was malformed (rather than the file unreadable).
    pub fn is_malformed(&self) -> bool {
        matches!(self.kind, DotenvErrorKind::Malformed { .. })
    }

    /// The line a malformed statement starts on.
    pub fn line(&self) -> Option<usize> {
        match self.kind {
            DotenvErrorKind::Malformed { line, .. } => Some(line),
            _ => None,
        }
    }
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.kind {
            DotenvErrorKind::Unreadable(e) => write!(f, "--env-file {file}: cannot read it: {e}"),
            DotenvErrorKind::NotUtf8 => write!(
                f,
                "--env-file {file}: not UTF-8 text; save it as UTF-8 (dotenv files are text)"
            ),
            DotenvErrorKind::Malformed { line, why } => {
                let what = match why {
                    Malformed::UnclosedQuote => {
                        "a quoted value starts here and its closing quote never comes"
                    }
                    Malformed::NoKey => "there is no KEY before the = (or the quoted key is not closed)",
                    Malformed::TrailingText => {
                        "text follows the value; put a value with spaces or # in quotes, and start comments with #"
                    }
                };
                write!(
                    f,
                    "--env-file {file}, line {line}: not a dotenv line: {what}. \
                     Lines are KEY=value, export KEY=value, KEY=\"quoted\", or # comments"
                )
            }
        }
    }
}

impl std::error::Error for DotenvError {}

/// One `KEY=value` statement: the value is `None` for a bare `KEY`.
pub type Binding = (String, Option<String>);

/// The class python's `\s` matches on text (`str.isspace`): Unicode
/// White_Space plus the four information separators U+001C..U+001F.
const WS: &str = r"\s\x1c-\x1f";

struct Patterns {
    multiline_ws: Regex,
    whitespace: Regex,
    export: Regex,
    single_quoted_key: Regex,
    unquoted_key: Regex,
    equal_sign: Regex,
    single_quoted_value: Regex,
    double_quoted_value: Regex,
    unquoted_value: Regex,
    comment: Regex,
    end_of_line: Regex,
    unquoted_comment: Regex,
    single_escapes: Regex,
    double_escapes: Regex,
    variable: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // python-dotenv's expressions, anchored where its reader matches
        // (at the current position). `[^\S\r\n]` is whitespace other than a
        // line break.
        let inline_ws = format!("[[{WS}]&&[^\\r\\n]]");
        let re = |s: &str| Regex::new(s).expect("a fixed pattern");
        Patterns {
            multiline_ws: re(&format!("^[{WS}]*")),
            whitespace: re(&format!("^{inline_ws}*")),
            export: re(&format!("^(?:export{inline_ws}+)?")),
            single_quoted_key: re(r"^'([^']+)'"),
            unquoted_key: re(&format!("^([^=#{WS}]+)")),
            equal_sign: re(&format!("^(={inline_ws}*)")),
            single_quoted_value: re(r"(?s)^'((?:\\.|[^'\\])*)'"),
            double_quoted_value: re(r#"(?s)^"((?:\\.|[^"\\])*)""#),
            unquoted_value: re(r"^([^\r\n]*)"),
            comment: re(&format!("^(?:{inline_ws}*#[^\\r\\n]*)?")),
            end_of_line: re(&format!("^{inline_ws}*(?:\\r\\n|\\n|\\r|$)")),
            unquoted_comment: re(&format!("[{WS}]+#.*")),
            single_escapes: re(r"\\[\\']"),
            double_escapes: re(r#"\\[\\'"abfnrtv]"#),
            variable: re(r"\$\{([^}:]*)(?::-([^}]*))?\}"),
        }
    })
}

/// A cursor over the text that counts line breaks as python-dotenv does.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    /// Matches `re` at the cursor and moves past it: the capture groups.
    fn read(&mut self, re: &Regex) -> Option<Vec<&'a str>> {
        let rest = &self.text[self.pos..];
        let caps = re.captures(rest)?;
        let whole = caps.get(0)?.as_str();
        self.advance(whole);
        Some(
            caps.iter()
                .skip(1)
                .map(|c| c.map_or("", |m| m.as_str()))
                .collect(),
        )
    }

    fn advance(&mut self, s: &str) {
        self.pos += s.len();
        // \r\n, \n and \r each end one line.
        self.line += s.matches('\n').count() + s.matches('\r').count() - s.matches("\r\n").count();
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }
}

fn unescape(re: &Regex, s: &str) -> String {
    re.replace_all(s, |c: &regex::Captures<'_>| {
        match c.get(0).map_or("", |m| m.as_str()).as_bytes().get(1) {
            Some(b'a') => "\x07".to_string(),
            Some(b'b') => "\x08".to_string(),
            Some(b'f') => "\x0c".to_string(),
            Some(b'n') => "\n".to_string(),
            Some(b'r') => "\r".to_string(),
            Some(b't') => "\t".to_string(),
            Some(b'v') => "\x0b".to_string(),
            Some(&other) => (other as char).to_string(),
            None => String::new(),
        }
    })
    .into_owned()
}

/// One statement; `Err` with the reason when the parser gives up on it.
fn binding(p: &Patterns, r: &mut Reader<'_>) -> Result<Option<Binding>, Malformed> {
    r.read(&p.export);
    let key = match r.peek() {
        Some('#') => None,
        Some('\'') => Some(r.read(&p.single_quoted_key).ok_or(Malformed::NoKey)?[0].to_string()),
        _ => Some(r.read(&p.unquoted_key).ok_or(Malformed::NoKey)?[0].to_string()),
    };
    r.read(&p.whitespace);
    let value = if r.peek() == Some('=') {
        let equal_sign = r.read(&p.equal_sign).map_or(0, |c| c[0].len());
        // `KEY= # note`: an empty value and a comment (`KEY=#x` is a value).
        Some(match r.peek() {
            Some('#') if equal_sign > 1 => String::new(),
            Some('\'') => unescape(
                &p.single_escapes,
                r.read(&p.single_quoted_value)
                    .ok_or(Malformed::UnclosedQuote)?[0],
            ),
            Some('"') => unescape(
                &p.double_escapes,
                r.read(&p.double_quoted_value)
                    .ok_or(Malformed::UnclosedQuote)?[0],
            ),
            None | Some('\n') | Some('\r') => String::new(),
            _ => {
                let part = r.read(&p.unquoted_value).map(|c| c[0]).unwrap_or("");
                p.unquoted_comment
                    .replace_all(part, "")
                    .trim_end_matches(is_py_space)
                    .to_string()
            }
        })
    } else {
        None
    };
    r.read(&p.comment);
    r.read(&p.end_of_line).ok_or(Malformed::TrailingText)?;
    Ok(key.map(|k| (k, value)))
}

fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Parses dotenv text: the statements in order, or the first one it cannot
/// read with the line it starts on.
pub fn parse(text: &str) -> Result<Vec<Binding>, (usize, Malformed)> {
    let p = patterns();
    // Python reads the file in text mode: \r\n and \r arrive as \n.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut r = Reader {
        text: &text,
        pos: 0,
        line: 1,
    };
    let mut out = Vec::new();
    loop {
        r.read(&p.multiline_ws);
        if r.pos >= r.text.len() {
            return Ok(out);
        }
        let start = r.line;
        match binding(p, &mut r) {
            Ok(Some(b)) => out.push(b),
            Ok(None) => {}
            Err(why) => return Err((start, why)),
        }
    }
}

/// `${NAME}` and `${NAME:-default}` in `value`, looked up in `lookup`
/// (a name found with no value expands to nothing, not to the default).
fn expand(value: &str, lookup: &dyn Fn(&str) -> Option<Option<String>>) -> String {
    let p = patterns();
    let mut out = String::new();
    let mut cursor = 0;
    for caps in p.variable.captures_iter(value) {
        let (Some(whole), Some(name)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        out.push_str(&value[cursor..whole.start()]);
        let default = caps.get(2).map_or("", |d| d.as_str());
        match lookup(name.as_str()) {
            Some(found) => out.push_str(&found.unwrap_or_default()),
            None => out.push_str(default),
        }
        cursor = whole.end();
    }
    out.push_str(&value[cursor..]);
    out
}

/// Reads `files` in order: the variables they set (a later file wins), with
/// `${VAR}` resolved against earlier values, then `base` (portside-local's
/// own environment).
pub fn load(
    files: &[PathBuf],
    base: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    // What `os.environ` holds as each file is loaded: the files' values on
    // top of the process's.
    let mut loaded: HashMap<String, String> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for file in files {
        let bindings = read(file)?;
        let mut this_file: Vec<(String, Option<String>)> = Vec::new();
        for (key, value) in bindings {
            let resolved = value.map(|v| {
                let lookup = |name: &str| -> Option<Option<String>> {
                    if let Some((_, v)) = this_file.iter().rev().find(|(k, _)| k == name) {
                        return Some(v.clone());
                    }
                    loaded.get(name).cloned().or_else(|| base(name)).map(Some)
                };
                expand(&v, &lookup)
            });
            this_file.retain(|(k, _)| *k != key);
            this_file.push((key, resolved));
        }
        for (key, value) in this_file {
            if let Some(value) = value {
                if !order.contains(&key) {
                    order.push(key.clone());
                }
                loaded.insert(key, value);
            }
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|k| loaded.remove(&k).map(|v| (k, v)))
        .collect())
}

fn read(file: &Path) -> Result<Vec<Binding>, DotenvError> {
    let err = |kind| DotenvError {
        file: file.to_path_buf(),
        kind,
    };
    let bytes = std::fs::read(file).map_err(|e| err(DotenvErrorKind::Unreadable(e.to_string())))?;
    let text = String::from_utf8(bytes).map_err(|_| err(DotenvErrorKind::NotUtf8))?;
    parse(&text).map_err(|(line, why)| err(DotenvErrorKind::Malformed { line, why }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, Option<String>)> {
        parse(text).expect("parses")
    }

    fn pair(k: &str, v: &str) -> (String, Option<String>) {
        (k.to_string(), Some(v.to_string()))
    }

    #[test]
    fn the_basic_forms() {
        assert_eq!(
            kv("A=1\nexport B=two words\n# comment\nC='single # kept'\nD=\"x\\ny\" # note\nE\n"),
            vec![
                pair("A", "1"),
                pair("B", "two words"),
                pair("C", "single # kept"),
                pair("D", "x\ny"),
                ("E".to_string(), None),
            ]
        );
        // An unquoted value loses a trailing ` # comment`, not a `#` inside.
        assert_eq!(kv("U=a#b # c\n"), vec![pair("U", "a#b")]);
        // Quoted values may span lines.
        assert_eq!(
            kv("M=\"one\ntwo\"\nN=3"),
            vec![pair("M", "one\ntwo"), pair("N", "3")]
        );
    }

    #[test]
    fn a_bad_line_is_named_by_the_line_it_starts_on() {
        assert_eq!(
            parse("A=1\n\nB=\"open\nC=2\n"),
            Err((3, Malformed::UnclosedQuote))
        );
        assert_eq!(parse("=nokey\n"), Err((1, Malformed::NoKey)));
        assert_eq!(parse("A=1\nB='x' y\n"), Err((2, Malformed::TrailingText)));
        assert_eq!(parse("A=1\r\nB C\r\n"), Err((2, Malformed::TrailingText)));
    }

    #[test]
    fn expansion_sees_earlier_lines_then_files_then_the_environment() {
        let dir = std::env::temp_dir().join(format!("dotenv-{}", crate::util::random_hex(8)));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let one = dir.join("one");
        let two = dir.join("two");
        std::fs::write(&one, "A=a\nB=${A}-${HOME_X}-${MISSING:-dflt}\nE\n").expect("write");
        std::fs::write(&two, "A=again\nC=${B}/${A}\nD=${E:-unset}\n").expect("write");
        let base = |k: &str| (k == "HOME_X").then(|| "h".to_string());
        let got = load(&[one, two], &base).expect("loads");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            got,
            vec![
                ("A".to_string(), "again".to_string()),
                ("B".to_string(), "a-h-dflt".to_string()),
                ("C".to_string(), "a-h-dflt/again".to_string()),
                ("D".to_string(), "unset".to_string()),
            ]
        );
    }

    #[test]
    fn errors_name_the_file_and_line_but_not_the_text() {
        let dir = std::env::temp_dir().join(format!("dotenv-{}", crate::util::random_hex(8)));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let f = dir.join(".env");
        std::fs::write(&f, "TOKEN=\"s3cret\nOTHER=1\n").expect("write");
        let e = load(std::slice::from_ref(&f), &|_| None).expect_err("malformed");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(e.is_malformed());
        assert_eq!(e.line(), Some(1));
        let text = e.to_string();
        assert!(text.contains(&format!("{}, line 1", f.display())), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
