//! The `.npy` header: magic, version, and the Python dict literal that
//! describes the array (`{'descr': '<f4', 'fortran_order': False, 'shape':
//! (1000, 3), }`).
//!
//! The parser accepts the subset of Python literals that numpy writes
//! (strings, integers, booleans, `None`, tuples, lists, dicts), bounds every
//! length and nesting depth, and never panics: it is fuzzed.

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// The dtype.
    pub descr: NpyDescr,
    /// True for column-major data.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<u64>,
    /// Byte offset of the data.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of records: the first dimension for 2-D arrays and the product
    /// of the shape for 1-D structured ones; `None` on overflow.
    pub fn records(&self) -> Option<u64> {
        match (&self.descr, self.shape.as_slice()) {
            (NpyDescr::Simple(_), [n, _]) => Some(*n),
            _ => self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)),
        }
    }
}

/// An array's dtype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NpyDescr {
    /// A plain dtype string such as `<f4`.
    Simple(String),
    /// A structured dtype: named fields in record order.
    Structured(Vec<NpyField>),
}

/// One field of a structured dtype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyField {
    /// Its name (empty for padding).
    pub name: String,
    /// Its dtype string.
    pub dtype: String,
    /// Sub-array shape (empty for scalars).
    pub shape: Vec<u64>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// What to do about an array densebin cannot read as it is.
pub(crate) const AS_FLOATS: &str =
    "save the columns to bin as a float (N, k) array, such as np.column_stack([x, y, z])";

/// A header that numpy would not have written (cut short or corrupt), with
/// what to do.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> String {
    format!("{what}; save the array again with numpy's np.save")
}
const MAX_DEPTH: usize = 16;

/// Parses the header at the start of `bytes`.
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader, String> {
    if !bytes.starts_with(MAGIC) {
        return Err(format!(
            "not an .npy file: the magic string \\x93NUMPY is missing; check {}",
            crate::param::Param::Format.mark()
        ));
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(&[a, b]) => (a, b),
        _ => return Err(corrupt("truncated .npy header")),
    };
    let (len, start): (usize, usize) = match major {
        1 => match bytes.get(8..10) {
            Some(&[a, b]) => (u16::from_le_bytes([a, b]) as usize, 10),
            _ => return Err(corrupt("truncated .npy header")),
        },
        2 | 3 => match bytes.get(8..12) {
            Some(&[a, b, c, d]) => (u32::from_le_bytes([a, b, c, d]) as usize, 12),
            _ => return Err(corrupt("truncated .npy header")),
        },
        v => {
            return Err(format!(
                "unsupported .npy format version {v}.{minor}; densebin reads versions 1.0 to 3.0 \
                 (save it with numpy's np.save)"
            ));
        }
    };
    let text = start
        .checked_add(len)
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| corrupt(format!("truncated .npy header: {len} bytes promised")))?;
    let text = std::str::from_utf8(text).map_err(|_| corrupt("the .npy header is not text"))?;
    let value = Parser::new(text).parse_all()?;
    let Value::Dict(items) = value else {
        return Err(corrupt("the .npy header is not a dict"));
    };
    let get = |key: &str| {
        items
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, v)| v)
            .ok_or_else(|| corrupt(format!("the .npy header has no {key:?}")))
    };
    let descr = parse_descr(get("descr")?)?;
    let fortran_order = match get("fortran_order")? {
        Value::Bool(b) => *b,
        _ => return Err(corrupt("'fortran_order' is not a boolean")),
    };
    let shape = match get("shape")? {
        Value::Tuple(dims) => dims
            .iter()
            .map(|d| match d {
                Value::Int(n) => Ok(*n),
                _ => Err(corrupt("'shape' holds a non-integer")),
            })
            .collect::<Result<Vec<u64>, String>>()?,
        _ => return Err(corrupt("'shape' is not a tuple")),
    };
    Ok(NpyHeader {
        version: (major, minor),
        descr,
        fortran_order,
        shape,
        data_offset: start + len,
    })
}

fn parse_descr(v: &Value) -> Result<NpyDescr, String> {
    match v {
        Value::Str(s) => Ok(NpyDescr::Simple(s.clone())),
        Value::List(fields) => fields
            .iter()
            .map(|f| {
                let Value::Tuple(parts) = f else {
                    return Err(corrupt("a structured dtype field is not a tuple"));
                };
                match parts.as_slice() {
                    [Value::Str(name), Value::Str(dtype)] => Ok(NpyField {
                        name: name.clone(),
                        dtype: dtype.clone(),
                        shape: Vec::new(),
                    }),
                    [Value::Str(name), Value::Str(dtype), Value::Tuple(shape)] => Ok(NpyField {
                        name: name.clone(),
                        dtype: dtype.clone(),
                        shape: shape
                            .iter()
                            .map(|d| match d {
                                Value::Int(n) => Ok(*n),
                                _ => Err(corrupt("bad sub-array shape")),
                            })
                            .collect::<Result<_, _>>()?,
                    }),
                    [Value::Str(name), _, ..] => Err(format!(
                        "field {name:?} has a nested dtype: not supported; {AS_FLOATS}"
                    )),
                    _ => Err(corrupt("a structured dtype field is not (name, dtype)")),
                }
            })
            .collect::<Result<_, _>>()
            .map(NpyDescr::Structured),
        _ => Err(corrupt(
            "'descr' is neither a dtype string nor a list of fields",
        )),
    }
}

/// A Python literal.
#[derive(Debug, PartialEq)]
enum Value {
    Str(String),
    Int(u64),
    Bool(bool),
    None,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            s: text.as_bytes(),
            pos: 0,
        }
    }

    fn parse_all(mut self) -> Result<Value, String> {
        let v = self.value(0)?;
        self.skip_ws();
        if self.pos != self.s.len() {
            return Err(self.err("unexpected text after the header dict"));
        }
        Ok(v)
    }

    fn err(&self, what: &str) -> String {
        corrupt(format!(
            "malformed .npy header at byte {}: {what}",
            self.pos
        ))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end")),
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Value::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(if open == b'(' {
                            Value::Tuple(items)
                        } else {
                            Value::List(items)
                        });
                    }
                    items.push(self.value(depth + 1)?);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(c) if c == close => {}
                        _ => return Err(self.err("expected ',' or a closing bracket")),
                    }
                }
            }
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.pos) {
                        None => return Err(self.err("unterminated string")),
                        Some(b'\\') => {
                            let c = *self
                                .s
                                .get(self.pos + 1)
                                .ok_or_else(|| self.err("bad escape"))?;
                            out.push(match c {
                                b'n' => b'\n',
                                b't' => b'\t',
                                other => other,
                            });
                            self.pos += 2;
                        }
                        Some(&c) if c == q => {
                            self.pos += 1;
                            break;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                }
                String::from_utf8(out)
                    .map(Value::Str)
                    .map_err(|_| self.err("string is not UTF-8"))
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.pos])
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or_else(|| self.err("integer too large"))?;
                // Python 2 long suffix, as old numpy wrote it.
                if self.s.get(self.pos) == Some(&b'L') {
                    self.pos += 1;
                }
                Ok(Value::Int(n))
            }
            Some(_) => {
                for (word, v) in [
                    ("True", Value::Bool(true)),
                    ("False", Value::Bool(false)),
                    ("None", Value::None),
                ] {
                    if self.s[self.pos..].starts_with(word.as_bytes()) {
                        self.pos += word.len();
                        return Ok(v);
                    }
                }
                Err(self.err("unexpected character"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, major: u8) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([major, 0]);
        if major == 1 {
            out.extend((header.len() as u16).to_le_bytes());
        } else {
            out.extend((header.len() as u32).to_le_bytes());
        }
        out.extend(header.as_bytes());
        out
    }

    #[test]
    fn parses_what_numpy_writes() {
        let h = parse_header(&npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 3), }          \n",
            1,
        ))
        .unwrap();
        assert_eq!(h.descr, NpyDescr::Simple("<f4".into()));
        assert_eq!(h.shape, vec![1000, 3]);
        assert!(!h.fortran_order);
        assert_eq!(h.records(), Some(1000));
        assert_eq!(h.data_offset, 10 + 73);

        let h = parse_header(&npy(
            "{'descr': [('x', '<f8'), ('y', '<f8'), ('id', '<i8'), ('', '|V4')], 'fortran_order': False, 'shape': (5,), }\n",
            2,
        ))
        .unwrap();
        let NpyDescr::Structured(f) = &h.descr else {
            panic!("not structured")
        };
        assert_eq!(f.len(), 4);
        assert_eq!(f[2].name, "id");
        assert_eq!(h.records(), Some(5));
        assert_eq!(h.version, (2, 0));
    }

    #[test]
    fn python2_longs() {
        let h = parse_header(&npy(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (10L, 2L), }",
            1,
        ))
        .unwrap();
        assert_eq!(h.shape, vec![10, 2]);
        assert!(h.fortran_order);
    }

    #[test]
    fn rejects_malformed_headers() {
        assert!(parse_header(b"hello").unwrap_err().contains("magic"));
        assert!(
            parse_header(b"\x93NUMPY\x01")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(
            parse_header(&npy("{}", 9))
                .unwrap_err()
                .contains("version 9")
        );
        let mut short = npy("{'descr': '<f4'}", 1);
        short.truncate(20);
        assert!(parse_header(&short).unwrap_err().contains("truncated"));
        assert!(
            parse_header(&npy("[1, 2]", 1))
                .unwrap_err()
                .contains("not a dict")
        );
        assert!(
            parse_header(&npy("{'descr': '<f4'}", 1))
                .unwrap_err()
                .contains("fortran_order")
        );
        assert!(
            parse_header(&npy(&"(".repeat(100), 1))
                .unwrap_err()
                .contains("deeply")
        );
        assert!(
            parse_header(&npy("{'a': 99999999999999999999999}", 1))
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_header(&npy("{'a': 'x", 1))
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(
            parse_header(&npy("{'a': 1} x", 1))
                .unwrap_err()
                .contains("after")
        );
    }
}
