//! YAML documents read the way PyYAML 1.1 (FuxiCTR's loader) reads them, and written so that
//! PyYAML reads them back unchanged.
//!
//! The parsing is yaml-rust2's; only the typing of plain scalars is ours, because PyYAML's
//! resolver differs from YAML 1.2's: `1.e-3` is a float, `1e-5` (no dot) is a *string*, `True`,
//! `yes` and `on` are booleans. Configs that rely on those quirks must load as they do in FuxiCTR.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML value with PyYAML's types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Mapping),
}

/// A mapping that keeps its keys in document order (FuxiCTR relies on dict order) and the line of
/// each key, so errors can point into the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    /// 1-based line of the key in its file; 0 for entries made in code.
    pub line: usize,
}

impl Mapping {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Sets `key`, keeping its position when it exists (like a Python dict update).
    pub fn insert(&mut self, key: impl Into<String>, value: Value, line: usize) {
        let key = key.into();
        match self.entries.iter_mut().find(|e| e.key == key) {
            Some(e) => {
                e.value = value;
                e.line = line;
            }
            None => self.entries.push(Entry { key, value, line }),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        let i = self.entries.iter().position(|e| e.key == key)?;
        Some(self.entries.remove(i))
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    /// The type name PyYAML users would recognise, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as Python's `str()` would print it (used where FuxiCTR stringifies values, such
    /// as `fill_na` of a string column).
    pub fn python_str(&self) -> String {
        match self {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => python_float(*f),
            Value::Str(s) => s.clone(),
            other => format!("{other}"),
        }
    }
}

/// Python's `str(float)`: shortest round-trip digits, `.0` on integral values, exponent form
/// outside [1e-4, 1e16).
pub fn python_float(v: f64) -> String {
    python_repr(v)
}

/// An f32 in the same style, from its own shortest digits (`0.1`, not the `0.10000000149011612`
/// of its f64 widening).
pub fn python_float32(v: f32) -> String {
    python_repr(v)
}

fn python_repr<F>(v: F) -> String
where
    F: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    let x: f64 = v.into();
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-4..1e16).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').expect("`{:e}` always has an exponent");
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        format!("{mantissa}e{sign}{digits:0>2}")
    }
}

/// A syntax error, with the 1-based line and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses one YAML document (an empty text is `Null`).
pub fn parse(text: &str) -> Result<Value, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // Events are pulled one at a time rather than through `Parser::load`, which recurses once
    // per nesting level (a deeply nested file would overflow the stack before the builder
    // could refuse it).
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        let last = matches!(event, Event::DocumentEnd | Event::StreamEnd);
        builder.on_event(event, mark);
        if last || builder.error.is_some() {
            break;
        }
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or(Value::Null))
}

/// The most values a document may expand to, aliases included: a config has hundreds. YAML's
/// aliases let a few lines name billions of values ("billion laughs").
pub const MAX_VALUES: usize = 1_000_000;

/// The deepest nesting of lists and mappings a document may have (configs nest three or four
/// levels; dropping a value thousands of levels deep would overflow the stack).
pub const MAX_DEPTH: usize = 64;

enum Frame {
    List(Vec<Value>, usize),
    Map(Mapping, Option<(String, usize)>, usize),
}

#[derive(Default)]
struct Builder {
    /// The open collections, each with the value count when it opened.
    stack: Vec<(Frame, usize)>,
    /// Anchored values with the number of values each holds.
    anchors: HashMap<usize, (Value, usize)>,
    root: Option<Value>,
    error: Option<YamlError>,
    /// Values built so far, counting every copy an alias makes.
    values: usize,
}

impl Builder {
    fn fail(&mut self, mark: Marker, message: String) {
        self.error.get_or_insert(YamlError {
            line: mark.line(),
            column: mark.col() + 1,
            message,
        });
    }

    /// Adds `value`, which holds `size` values (itself included).
    fn push_value(&mut self, value: Value, size: usize, anchor: usize, mark: Marker) {
        self.values = self.values.saturating_add(size);
        if self.values > MAX_VALUES {
            return self.fail(
                mark,
                format!(
                    "the document expands to more than {MAX_VALUES} values (through aliases?): \
                     not a config QNN Lab reads"
                ),
            );
        }
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        match self.stack.last_mut().map(|(frame, _)| frame) {
            None => self.root = Some(value),
            Some(Frame::List(items, _)) => items.push(value),
            Some(Frame::Map(map, pending, _)) => match pending.take() {
                Some((key, line)) => map.insert(key, value, line),
                None => match value {
                    Value::List(_) | Value::Map(_) => {
                        self.fail(mark, "a mapping key must be a plain value".into())
                    }
                    key => *pending = Some((key.python_str(), mark.line())),
                },
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = match (style, tag) {
                    (_, Some(tag)) if tag.suffix == "str" => Value::Str(text),
                    (TScalarStyle::Plain, _) => resolve_plain(&text),
                    _ => Value::Str(text),
                };
                self.push_value(value, 1, anchor, mark);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.fail(
                    mark,
                    format!("lists and mappings nest more than {MAX_DEPTH} levels deep"),
                )
            }
            Event::SequenceStart(anchor, _) => self
                .stack
                .push((Frame::List(Vec::new(), anchor), self.values)),
            Event::MappingStart(anchor, _) => self
                .stack
                .push((Frame::Map(Mapping::new(), None, anchor), self.values)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor, opened) = match self.stack.pop() {
                    Some((Frame::List(items, anchor), opened)) => {
                        (Value::List(items), anchor, opened)
                    }
                    Some((Frame::Map(map, _, anchor), opened)) => (Value::Map(map), anchor, opened),
                    None => return,
                };
                // The items were counted as they came; the collection itself is one more.
                let size = self.values - opened + 1;
                self.push_value(value, 1, anchor, mark);
                if anchor > 0
                    && let Some(entry) = self.anchors.get_mut(&anchor)
                {
                    entry.1 = size;
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some((value, size)) => self.push_value(value, size, 0, mark),
                None => self.fail(mark, "alias to an unknown anchor".into()),
            },
            _ => {}
        }
    }
}

/// PyYAML 1.1's implicit resolvers for plain scalars (sexagesimal numbers excepted: they stay
/// strings).
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if let Some(i) = resolve_int(text) {
        return Value::Int(i);
    }
    if let Some(f) = resolve_float(text) {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

fn split_sign(text: &str) -> (i64, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    }
}

fn resolve_int(text: &str) -> Option<i64> {
    let (sign, body) = split_sign(text);
    let digits = |s: &str, ok: fn(char) -> bool| {
        !s.is_empty() && s.chars().all(|c| c == '_' || ok(c)) && s.chars().any(ok)
    };
    let clean = |s: &str| s.replace('_', "");
    let magnitude = if let Some(b) = body.strip_prefix("0b") {
        digits(b, |c| c == '0' || c == '1')
            .then(|| i64::from_str_radix(&clean(b), 2).ok())
            .flatten()?
    } else if let Some(h) = body.strip_prefix("0x") {
        digits(h, |c| c.is_ascii_hexdigit())
            .then(|| i64::from_str_radix(&clean(h), 16).ok())
            .flatten()?
    } else if body == "0" {
        0
    } else if let Some(o) = body.strip_prefix('0') {
        digits(o, |c| ('0'..='7').contains(&c))
            .then(|| i64::from_str_radix(&clean(o), 8).ok())
            .flatten()?
    } else if body.starts_with(|c: char| c.is_ascii_digit()) && digits(body, |c| c.is_ascii_digit())
    {
        clean(body).parse().ok()?
    } else {
        return None;
    };
    Some(sign * magnitude)
}

fn resolve_float(text: &str) -> Option<f64> {
    let (sign, body) = split_sign(text);
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign as f64 * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if sign == 1 && !text.starts_with('+') => return Some(f64::NAN),
        _ => {}
    }
    // [0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  or  \.[0-9_]+([eE][-+][0-9]+)?
    let (number, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = number.split_once('.')?;
    let digits_or_underscore = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    let int_ok = if int_part.is_empty() {
        !frac_part.is_empty() && frac_part.starts_with(|c: char| c.is_ascii_digit() || c == '_')
    } else {
        int_part.starts_with(|c: char| c.is_ascii_digit()) && digits_or_underscore(int_part)
    };
    if !int_ok || !digits_or_underscore(frac_part) {
        return None;
    }
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['-', '+'])?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let cleaned: String = number.chars().filter(|&c| c != '_').collect();
    let literal = match exponent {
        Some(exp) => format!("{cleaned}0e{exp}"),
        None => format!("{cleaned}0"),
    };
    literal.parse::<f64>().ok().map(|v| sign as f64 * v)
}

// ---------------------------------------------------------------------------------------------
// Writing

impl fmt::Display for Value {
    /// Flow style (`{a: 1, b: [x, y]}`), readable by PyYAML with the same types.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(v) => f.write_str(&yaml_float(*v)),
            Value::Str(s) => f.write_str(&yaml_string(s)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, e) in map.entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", yaml_string(&e.key), e.value)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// A document: top-level mapping in block style, one key per line, values of nested mappings
/// indented, lists and deeper values in flow style — the way FuxiCTR's configs are written.
pub fn to_document(root: &Mapping) -> String {
    let mut out = String::new();
    write_block(&mut out, root, 0);
    out
}

fn write_block(out: &mut String, map: &Mapping, indent: usize) {
    for e in &map.entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&yaml_string(&e.key));
        match &e.value {
            Value::Map(inner) if !inner.is_empty() => {
                out.push_str(":\n");
                write_block(out, inner, indent + 4);
            }
            Value::List(items) if items.iter().any(|v| matches!(v, Value::Map(_))) => {
                out.push_str(":\n");
                for item in items {
                    out.push_str(&" ".repeat(indent + 4));
                    out.push_str(&format!("- {item}\n"));
                }
            }
            value => out.push_str(&format!(": {value}\n")),
        }
    }
}

/// A float PyYAML reads back as a float: it needs a dot, and a signed exponent.
fn yaml_float(v: f64) -> String {
    if v.is_nan() {
        return ".nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let s = python_float(v);
    match s.split_once('e') {
        Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
        _ => s,
    }
}

/// A string, quoted when PyYAML would otherwise read it as something else or cannot parse it.
fn yaml_string(s: &str) -> String {
    if s.contains(needs_escape) {
        return double_quoted(s);
    }
    let plain_ok = !s.is_empty()
        && matches!(resolve_plain(s), Value::Str(_))
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains([',', '[', ']', '{', '}', '\n', '\t'])
        && plain_reads_back(s);
    if plain_ok {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// Whether `s` written plain reads back as itself everywhere the writer puts a scalar (in a flow
/// sequence, as a flow mapping's key and value, as a block mapping's key and value). The parser's
/// plain-scalar rules have corners (`a -` before `}` is an error; `a:` is a mapping) that are
/// surer to test than to restate; the rules above only spare the parse for the common cases.
fn plain_reads_back(s: &str) -> bool {
    let doc = format!("probe: [{s}, {{{s}: {s}}}]\n{s}: {s}\n");
    let Ok(Value::Map(m)) = parse(&doc) else {
        return false;
    };
    let want = Value::Str(s.to_string());
    let flow_ok = match m.get("probe") {
        Some(Value::List(l)) => {
            l.len() == 2
                && l[0] == want
                && matches!(&l[1], Value::Map(f) if f.entries().len() == 1 && f.get(s) == Some(&want))
        }
        _ => false,
    };
    flow_ok && m.entries().len() == 2 && m.get(s) == Some(&want)
}

/// Characters a YAML document cannot hold as they are (outside YAML's printable set) or that a
/// quoted scalar would fold into a space (line breaks): a column named with one of them (a CSV
/// header can hold anything) is written with escapes.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

/// A double-quoted scalar, the one YAML style with escapes.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                out.push_str(&match code {
                    0..=0xFF => format!("\\x{code:02X}"),
                    0x100..=0xFFFF => format!("\\u{code:04X}"),
                    _ => format!("\\U{code:08X}"),
                });
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        // A CSV header can hold any text; a config the page exports must name the column exactly.
        #[test]
        fn any_string_reads_back_as_itself(key in any::<String>(), value in any::<String>()) {
            let mut m = Mapping::new();
            let mut col = Mapping::new();
            col.insert("name", Value::Str(value.clone()), 0);
            m.insert(key.clone(), Value::List(vec![Value::Map(col)]), 0);
            let text = to_document(&m);
            let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
            let back = back.as_map().expect("a mapping");
            let list = back.get(&key).and_then(|v| match v { Value::List(l) => Some(l), _ => None });
            let name = list.and_then(|l| l[0].as_map()).and_then(|c| c.get("name"));
            prop_assert_eq!(name, Some(&Value::Str(value)), "{:?}", text);
        }
    }

    fn map(text: &str) -> Mapping {
        parse(text).unwrap().as_map().unwrap().clone()
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_errors_in_little_time_and_memory() {
        // "Billion laughs": nine aliases per level, nine levels = 9⁹ ≈ 387 M values.
        let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let p = level - 1;
            bomb.push_str(&format!(
                "a{level}: &a{level} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("more than 1000000 values"), "{err}");
        assert_eq!(err.line, 7, "{err}"); // a6: 9⁷ values

        let flow = format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        // Block sequences, each "- " one level deeper.
        let block = format!("a:\n{}1\n", "- ".repeat(100_000));
        let flow_maps = format!("a: {}1{}\n", "{x: ".repeat(100_000), "}".repeat(100_000));
        for deep in [flow, block, flow_maps] {
            let err = parse(&deep).unwrap_err();
            assert!(
                err.message.contains("nest more than 64 levels")
                    || err.message.contains("recursion"),
                "{err}"
            );
        }
        // Up to the limits, all is well.
        let fine = format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn scalars_are_typed_like_pyyaml_1_1() {
        let m = map(concat!(
            "a: 1.e-3\nb: 1e-5\nc: True\nd: null\ne: 0.1\nf: 10000\ng: '0.1'\nh: yes\n",
            "i: ~\nj: -.inf\nk: 1_000\nl: 0x1F\nm: .5\nn: 1.0e+3\no: off\np: max\nq:\n"
        ));
        let get = |k: &str| m.get(k).unwrap().clone();
        assert_eq!(get("a"), Value::Float(1e-3));
        assert_eq!(get("b"), Value::Str("1e-5".into()));
        assert_eq!(get("c"), Value::Bool(true));
        assert_eq!(get("d"), Value::Null);
        assert_eq!(get("e"), Value::Float(0.1));
        assert_eq!(get("f"), Value::Int(10000));
        assert_eq!(get("g"), Value::Str("0.1".into()));
        assert_eq!(get("h"), Value::Bool(true));
        assert_eq!(get("i"), Value::Null);
        assert_eq!(get("j"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(get("k"), Value::Int(1000));
        assert_eq!(get("l"), Value::Int(31));
        assert_eq!(get("m"), Value::Float(0.5));
        assert_eq!(get("n"), Value::Float(1000.0));
        assert_eq!(get("o"), Value::Bool(false));
        assert_eq!(get("p"), Value::Str("max".into()));
        assert_eq!(get("q"), Value::Null);
    }

    #[test]
    fn flow_maps_lists_order_and_lines() {
        let m = map(
            "Base:\n  x: 1\nexp:\n  monitor: {'AUC': 1, 'logloss': 0}\n  metrics: ['logloss', 'AUC']\n",
        );
        let exp = m.get("exp").unwrap().as_map().unwrap();
        let monitor = exp.get("monitor").unwrap().as_map().unwrap();
        assert_eq!(monitor.keys().collect::<Vec<_>>(), ["AUC", "logloss"]);
        assert_eq!(monitor.get("logloss"), Some(&Value::Int(0)));
        assert_eq!(exp.entry("metrics").unwrap().line, 5);
        assert_eq!(
            exp.get("metrics"),
            Some(&Value::List(vec![
                Value::Str("logloss".into()),
                Value::Str("AUC".into())
            ]))
        );
    }

    #[test]
    fn anchors_and_aliases_resolve() {
        let m = map("a: &x [1, 2]\nb: *x\n");
        assert_eq!(m.get("a"), m.get("b"));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
        let err = parse("a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn python_floats_print_like_python() {
        assert_eq!(python_float(3.0), "3.0");
        assert_eq!(python_float(189.0), "189.0");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(1e-5), "1e-05");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(-2.5e-7), "-2.5e-07");
    }

    #[test]
    fn written_documents_read_back_identically() {
        let original = map(concat!(
            "exp:\n  learning_rate: 1.e-3\n  tiny: 1.0e-07\n  reg: '1e-5'\n  flag: True\n",
            "  none: null\n  name: 'yes'\n  monitor: {AUC: 1, logloss: 0}\n",
            "  cols: [{name: [a, b], active: True, dtype: str, type: categorical}]\n",
            "  path: ../data/x.csv\n  empty: ''\n  colon: 'a: b'\n  ends: 'a:'\n  dash: 'a -'\n",
            "  names: [\"ge\\x7F\\0nder\", \"two\\nlines\", \"\\u2028\\uFEFF\\U0001F600\", 'it''s']\n"
        ));
        let text = to_document(&original);
        let back = map(&text);
        let strip = |m: &Mapping| format!("{}", Value::Map(m.clone()));
        assert_eq!(strip(&back), strip(&original), "{text}");
        let exp = back.get("exp").unwrap().as_map().unwrap();
        assert_eq!(exp.get("tiny"), Some(&Value::Float(1e-7)));
        assert_eq!(exp.get("reg"), Some(&Value::Str("1e-5".into())));
    }
}
