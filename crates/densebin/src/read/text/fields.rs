//! Fields and numbers of a text line: whitespace-separated or RFC 4180
//! delimited fields, numbers in every usual form parsed exactly, and the
//! fast path for plain whitespace-separated decimals.

/// The separator in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sep {
    Whitespace,
    Char(u8),
}

/// A problem on one line, located by byte offset within the line.
#[derive(Debug, PartialEq)]
pub(crate) enum LineError {
    Number { at: usize, found: Vec<u8> },
    Count { at: usize, found: usize },
    Quote { at: usize },
}

/// Exact powers of ten: every one up to 10^22 is a double.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal at the start of `b` — an optional sign, digits, an
/// optional fraction, at most 15 digits, no exponent — correctly rounded,
/// and the bytes it used; `None` for anything else (left to fast-float2).
///
/// Correct rounding is Clinger's fast path: the digits make an integer
/// `m < 10^15 < 2^53` and the scale `10^k` (`k <= 15`) are both exact
/// doubles, so the one IEEE division `m / 10^k` is correctly rounded. This
/// is what fast-float2 itself does for such numbers, without its general
/// parsing around it: the motivating `x y z` text parses about twice as
/// fast (BENCHMARKS.md, "text").
#[inline]
pub(super) fn parse_decimal(b: &[u8]) -> Option<(f64, usize)> {
    let negative = b.first() == Some(&b'-');
    let mut pos = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let mut m: u64 = 0;
    // Two tight loops, the integer digits and the fraction digits, each
    // with one branch per byte. Up to 15 digits keep m below 10^15 (the
    // check comes after the loop, which overflows nothing before then:
    // 10^19 fits in a u64 and digits beyond 19 are refused).
    let int_start = pos;
    while let Some(d) = b.get(pos).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(d));
        pos += 1;
    }
    let int_digits = pos - int_start;
    let mut frac = 0;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let frac_start = pos;
        while let Some(d) = b.get(pos).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            pos += 1;
        }
        frac = pos - frac_start;
    }
    let digits = int_digits + frac;
    if digits == 0 || digits > 15 || matches!(b.get(pos), Some(b'e' | b'E')) {
        return None;
    }
    // m < 10^15: the signed conversion is exact and one instruction.
    let v = m as i64 as f64 / POW10[frac];
    // The sign by setting the sign bit of the non-negative v: `-0` gives
    // -0.0 as it should, and no branch mispredicts on data whose signs
    // are random (a branch here cost a sixth of the parsing time).
    let sign = u64::from(negative) << 63;
    Some((f64::from_bits(v.to_bits() | sign), pos))
}

/// The bit of a field's mask that makes it the category (bits 0 to 3 are
/// the slots x, y, z, w).
pub(super) const CATEGORY: u8 = 1 << 4;

/// What [`fast_line`] made of a line.
pub(super) enum Fast {
    /// A point; the next line starts at this offset.
    Point(usize),
    /// A blank line.
    Blank(usize),
    /// Anything else (a comment, an error, an unusual field): the general
    /// path decides.
    Slow,
}

/// Parses one whitespace-separated line starting at `start` straight from
/// the chunk: each selected field with `fast_float2::parse_partial` where it
/// starts, other fields skipped, no separate tokenising pass. It accepts
/// exactly the lines the general path accepts without a comment, and hands
/// every other line to it — so errors and their messages come from one
/// place. Twice as fast as tokenising first (BENCHMARKS.md, "text").
///
/// With `CAT`, a field whose mask has [`CATEGORY`] set is the category:
/// its byte range in `data` goes to `cat` (without, the loop is the one
/// it was before categories).
#[inline]
pub(super) fn fast_line<const CAT: bool>(
    data: &[u8],
    start: usize,
    masks: &[u8],
    vals: &mut [f64; 4],
    cat: &mut (usize, usize),
) -> Fast {
    let n = data.len();
    let mut pos = start;
    let mut field = 0;
    let end = loop {
        while pos < n && (data[pos] == b' ' || data[pos] == b'\t') {
            pos += 1;
        }
        if pos >= n {
            break n;
        }
        match data[pos] {
            b'\n' => break pos + 1,
            b'\r' if data.get(pos + 1) == Some(&b'\n') => break pos + 2,
            b'\r' if pos + 1 == n => break n,
            b'\r' | b'#' => return Fast::Slow,
            _ => {}
        }
        let Some(&mask) = masks.get(field) else {
            return Fast::Slow; // an extra field
        };
        let field_start = pos;
        if mask & !CATEGORY != 0 {
            let parsed = parse_decimal(&data[pos..])
                .or_else(|| fast_float2::parse_partial::<f64, _>(&data[pos..]).ok());
            let Some((v, used)) = parsed else {
                return Fast::Slow;
            };
            pos += used;
            if used == 0 || !matches!(data.get(pos), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                return Fast::Slow;
            }
            // Most fields feed one slot: that one first, without a loop
            // (a loop over the slots cost 20 instructions a field).
            let slots = mask & !CATEGORY;
            vals[slots.trailing_zeros() as usize & 3] = v;
            if slots & (slots - 1) != 0 {
                for (slot, val) in vals.iter_mut().enumerate() {
                    if slots & (1 << slot) != 0 {
                        *val = v;
                    }
                }
            }
        } else {
            while pos < n && !matches!(data[pos], b' ' | b'\t' | b'\n' | b'\r') {
                pos += 1;
            }
        }
        if CAT && mask & CATEGORY != 0 {
            *cat = (field_start, pos);
        }
        field += 1;
    };
    match field {
        0 => Fast::Blank(end),
        f if f == masks.len() => Fast::Point(end),
        _ => Fast::Slow,
    }
}

impl LineError {
    pub(super) fn at(&self) -> usize {
        match self {
            LineError::Number { at, .. }
            | LineError::Count { at, .. }
            | LineError::Quote { at } => *at,
        }
    }
}

/// The 1-based column, in characters, of byte `at` of `line`.
pub(super) fn column_of(line: &[u8], at: usize) -> u64 {
    let prefix = &line[..at.min(line.len())];
    String::from_utf8_lossy(prefix).chars().count() as u64 + 1
}

/// One field of a line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Field<'a> {
    /// Byte offset in the line.
    pub start: usize,
    /// The text, trimmed; quotes included when `quoted`.
    pub text: &'a [u8],
    pub quoted: bool,
}

impl Field<'_> {
    /// The field's bytes without quotes, with `""` turned into `"` (in
    /// `buf` when there is one).
    #[inline]
    pub(super) fn unquoted_bytes<'b>(&'b self, buf: &'b mut Vec<u8>) -> &'b [u8] {
        if !self.quoted {
            return self.text;
        }
        let inner = &self.text[1..self.text.len() - 1];
        if memchr::memchr(b'"', inner).is_none() {
            return inner;
        }
        buf.clear();
        let mut i = 0;
        while i < inner.len() {
            buf.push(inner[i]);
            i += if inner[i] == b'"' { 2 } else { 1 };
        }
        buf
    }

    /// The field's text without quotes, with `""` turned into `"`.
    pub(super) fn unquoted(&self) -> String {
        if self.quoted {
            let inner = &self.text[1..self.text.len() - 1];
            String::from_utf8_lossy(inner).replace("\"\"", "\"")
        } else {
            String::from_utf8_lossy(self.text).into_owned()
        }
    }
}

/// The number in a field: `None` when it is not one. An empty field (only
/// possible with a delimiter) is a missing value, NaN.
#[inline]
pub(super) fn parse_number(field: &Field<'_>) -> Option<f64> {
    let mut text = field.text;
    if field.quoted {
        text = trim(&text[1..text.len() - 1]);
    }
    if text.is_empty() {
        return Some(f64::NAN);
    }
    fast_float2::parse::<f64, _>(text).ok()
}

#[inline]
pub(super) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(super) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = s {
        if is_blank(*b) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., b] = s {
        if is_blank(*b) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// The fields of one line.
pub(crate) struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
    sep: Sep,
    done: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(line: &'a [u8], sep: Sep) -> Fields<'a> {
        Fields {
            line,
            pos: 0,
            sep,
            done: false,
        }
    }

    fn next_whitespace(&mut self) -> Option<Field<'a>> {
        let line = self.line;
        let mut p = self.pos;
        while p < line.len() && is_blank(line[p]) {
            p += 1;
        }
        if p >= line.len() || line[p] == b'#' {
            self.done = true;
            return None;
        }
        let start = p;
        while p < line.len() && !is_blank(line[p]) {
            p += 1;
        }
        self.pos = p;
        Some(Field {
            start,
            text: &line[start..p],
            quoted: false,
        })
    }

    fn next_delimited(&mut self, sep: u8) -> Option<std::result::Result<Field<'a>, LineError>> {
        let line = self.line;
        let blank = |b: u8| b == b' ' || (b == b'\t' && sep != b'\t');
        let mut p = self.pos;
        while p < line.len() && blank(line[p]) {
            p += 1;
        }
        let start = p;
        let (text, after) = if p < line.len() && line[p] == b'"' {
            // Quoted: find the closing quote, skipping doubled quotes.
            let mut q = p + 1;
            loop {
                match memchr::memchr(b'"', &line[q..]) {
                    None => {
                        self.done = true;
                        return Some(Err(LineError::Quote { at: start }));
                    }
                    Some(i) if line.get(q + i + 1) == Some(&b'"') => q += i + 2,
                    Some(i) => {
                        q += i + 1;
                        break;
                    }
                }
            }
            let text = &line[start..q];
            while q < line.len() && blank(line[q]) {
                q += 1;
            }
            if q < line.len() && line[q] != sep {
                self.done = true;
                return Some(Err(LineError::Quote { at: start }));
            }
            (text, q)
        } else {
            let end = memchr::memchr(sep, &line[p..]).map_or(line.len(), |i| p + i);
            let mut e = end;
            while e > start && blank(line[e - 1]) {
                e -= 1;
            }
            (&line[start..e], end)
        };
        if after < line.len() {
            self.pos = after + 1; // past the separator: another field follows
        } else {
            self.done = true;
        }
        Some(Ok(Field {
            start,
            text,
            quoted: text.first() == Some(&b'"'),
        }))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = std::result::Result<Field<'a>, LineError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.sep {
            Sep::Whitespace => self.next_whitespace().map(Ok),
            Sep::Char(c) => self.next_delimited(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str, sep: Sep) -> Vec<String> {
        Fields::new(line.as_bytes(), sep)
            .map(|f| String::from_utf8(f.unwrap().text.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn whitespace_fields() {
        assert_eq!(texts("  1 2\t\t3  ", Sep::Whitespace), ["1", "2", "3"]);
        assert_eq!(texts("1 2 # a comment", Sep::Whitespace), ["1", "2"]);
        assert!(texts("   ", Sep::Whitespace).is_empty());
    }

    #[test]
    fn delimited_fields_follow_rfc4180() {
        let c = Sep::Char(b',');
        assert_eq!(texts("1, 2 ,3", c), ["1", "2", "3"]);
        assert_eq!(texts("1,,3,", c), ["1", "", "3", ""]);
        assert_eq!(
            texts(r#""a, ""b""",2,"x""#, c),
            [r#""a, ""b""""#, "2", r#""x""#]
        );
        let bad: Vec<_> = Fields::new(br#"1,"abc"#, c).collect();
        assert_eq!(bad[1], Err(LineError::Quote { at: 2 }));
        let bad: Vec<_> = Fields::new(br#""ab"c,1"#, c).collect();
        assert_eq!(bad[0], Err(LineError::Quote { at: 0 }));
        // tab-separated keeps empty fields and does not trim tabs
        assert_eq!(texts("1\t\t3", Sep::Char(b'\t')), ["1", "", "3"]);
    }

    #[test]
    fn numbers_in_every_usual_form() {
        let num = |s: &str| {
            parse_number(&Field {
                start: 0,
                text: s.as_bytes(),
                quoted: s.starts_with('"'),
            })
        };
        assert_eq!(num("1e+06"), Some(1e6));
        assert_eq!(num("+2.5"), Some(2.5));
        assert_eq!(num("-.5"), Some(-0.5));
        assert_eq!(num("5."), Some(5.0));
        assert_eq!(num("1E-05"), Some(1e-5));
        assert_eq!(num("0.1"), Some(0.1));
        assert_eq!(num("inf"), Some(f64::INFINITY));
        assert_eq!(num("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(num("nan").unwrap().is_nan());
        assert!(num("NaN").unwrap().is_nan());
        assert!(num("").unwrap().is_nan(), "empty is missing");
        assert_eq!(num("\" 7.5 \""), Some(7.5));
        assert_eq!(num("1.2.3"), None);
        assert_eq!(num("abc"), None);
        assert_eq!(num("1,5"), None);
        assert_eq!(num("0x10"), None);
        // correctly rounded: 17 significant digits and halfway cases
        assert_eq!(num("0.30000000000000004"), Some(0.30000000000000004));
        assert_eq!(num("9007199254740993"), Some(9007199254740992.0));
        assert_eq!(
            num("2.2250738585072011e-308"),
            Some(2.225_073_858_507_201e-308)
        );
    }

    proptest::proptest! {
        #[test]
        fn every_f64_parses_back_exactly(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            for text in [format!("{v:?}"), format!("{v:e}"), format!("{v:.17e}"), format!("{v:+e}")] {
                let got = parse_number(&Field { start: 0, text: text.as_bytes(), quoted: false }).unwrap();
                proptest::prop_assert!(
                    got.to_bits() == v.to_bits() || (got.is_nan() && v.is_nan()),
                    "{text} parsed as {got:?}, not {v:?}"
                );
            }
        }
    }

    #[test]
    fn plain_decimals() {
        let p = |s: &str| parse_decimal(s.as_bytes());
        assert_eq!(p("-4.0625 x"), Some((-4.0625, 7)));
        assert_eq!(p("+2.5"), Some((2.5, 4)));
        assert_eq!(p("5."), Some((5.0, 2)));
        assert_eq!(p(".25"), Some((0.25, 3)));
        assert_eq!(p("0.1"), Some((0.1, 3)));
        assert_eq!(
            p("-0.0").map(|(v, _)| v.to_bits()),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(p("1.2.3"), Some((1.2, 3)), "the caller sees what follows");
        assert_eq!(p("1e5"), None);
        assert_eq!(p("nan"), None);
        assert_eq!(p("-"), None);
        assert_eq!(p("."), None);
        assert_eq!(p("1234567890.123456"), None, "more than 15 digits");
    }

    proptest::proptest! {
        /// Plain decimals parse exactly as the standard library's correctly
        /// rounded parser does.
        #[test]
        fn plain_decimals_are_correctly_rounded(
            int in 0u64..10_000_000_000,
            frac in proptest::collection::vec(0u8..10, 0..8),
            negative in proptest::bool::ANY,
        ) {
            let frac: String = frac.iter().map(|d| char::from(b'0' + d)).collect();
            let text = format!("{}{int}.{frac}", if negative { "-" } else { "" });
            let want: f64 = text.parse().unwrap();
            match parse_decimal(text.as_bytes()) {
                Some((v, used)) => {
                    proptest::prop_assert_eq!(used, text.len());
                    proptest::prop_assert_eq!(v.to_bits(), want.to_bits(), "{}", text);
                }
                None => proptest::prop_assert!(int.to_string().len() + frac.len() > 15),
            }
        }
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(column_of("é,x".as_bytes(), 3), 3);
        assert_eq!(column_of(b"abc", 0), 1);
    }
}
