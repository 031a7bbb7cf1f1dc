//! [`ElementReader`]: cuts a byte stream into `< … >` elements.
//!
//! Bytes outside an element are discarded. An element split across reads
//! is buffered until its `>` arrives, up to [`MAX_ELEMENT_LEN`] bytes; a
//! longer one is discarded up to its `>` and reported as oversize, so a
//! peer cannot grow the buffer.

/// The longest element kept, in bytes, `<` and `>` included (socketcand's buffer size).
pub const MAX_ELEMENT_LEN: usize = 8290;

/// What [`ElementReader::next_element`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadElement {
    /// A complete element, from `<` to `>` inclusive.
    Element(Vec<u8>),
    /// An element longer than [`MAX_ELEMENT_LEN`] ended; its bytes were discarded.
    Oversize,
}

/// The state of a stream between reads.
#[derive(Debug, Default)]
pub struct ElementReader {
    /// The element read so far (starts with `<`), or empty outside one.
    current: Vec<u8>,
    /// True while discarding an oversize element up to its `>`.
    skipping: bool,
    /// Bytes given to [`ElementReader::push`] and not yet scanned.
    pending: Vec<u8>,
    scanned: usize,
}

impl ElementReader {
    /// A reader outside any element.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.scanned == self.pending.len() {
            self.pending.clear();
            self.scanned = 0;
        }
        self.pending.extend_from_slice(bytes);
    }

    /// True while an element has begun and not ended.
    pub fn inside_element(&self) -> bool {
        !self.current.is_empty() || self.skipping
    }

    /// The next complete element from the bytes pushed so far, if any.
    pub fn next_element(&mut self) -> Option<ReadElement> {
        while self.scanned < self.pending.len() {
            let rest = &self.pending[self.scanned..];
            if self.skipping {
                match rest.iter().position(|&b| b == b'>') {
                    Some(end) => {
                        self.scanned += end + 1;
                        self.skipping = false;
                        return Some(ReadElement::Oversize);
                    }
                    None => self.scanned = self.pending.len(),
                }
                continue;
            }
            if self.current.is_empty() {
                match rest.iter().position(|&b| b == b'<') {
                    Some(start) => self.scanned += start,
                    None => {
                        self.scanned = self.pending.len();
                        continue;
                    }
                }
            }
            let rest = &self.pending[self.scanned..];
            let (take, done) = match rest.iter().skip(1).position(|&b| b == b'>') {
                Some(end) if self.current.is_empty() => (end + 2, true),
                _ if self.current.is_empty() => (rest.len(), false),
                _ => match rest.iter().position(|&b| b == b'>') {
                    Some(end) => (end + 1, true),
                    None => (rest.len(), false),
                },
            };
            if self.current.len() + take > MAX_ELEMENT_LEN {
                self.current.clear();
                if done {
                    self.scanned += take;
                    return Some(ReadElement::Oversize);
                }
                self.scanned += take;
                self.skipping = true;
                continue;
            }
            self.current.extend_from_slice(&rest[..take]);
            self.scanned += take;
            if done {
                return Some(ReadElement::Element(std::mem::take(&mut self.current)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(reader: &mut ElementReader) -> Vec<ReadElement> {
        std::iter::from_fn(|| reader.next_element()).collect()
    }

    fn el(s: &str) -> ReadElement {
        ReadElement::Element(s.as_bytes().to_vec())
    }

    #[test]
    fn glued_elements_and_noise_between_them() {
        let mut r = ElementReader::new();
        r.push(b"junk< hi >\n\r< ok ><frame 1 0.0 >xx");
        assert_eq!(
            all(&mut r),
            [el("< hi >"), el("< ok >"), el("<frame 1 0.0 >")]
        );
        assert!(!r.inside_element());
    }

    #[test]
    fn an_element_split_across_reads_is_kept() {
        let mut r = ElementReader::new();
        r.push(b"< send 1");
        assert_eq!(all(&mut r), []);
        assert!(r.inside_element());
        r.push(b"23 1 ");
        assert_eq!(all(&mut r), []);
        r.push(b"ff >< ec");
        assert_eq!(all(&mut r), [el("< send 123 1 ff >")]);
        r.push(b"ho >");
        assert_eq!(all(&mut r), [el("< echo >")]);
    }

    #[test]
    fn an_oversize_element_is_dropped_and_the_stream_goes_on() {
        let mut r = ElementReader::new();
        let mut big = vec![b'<'];
        big.extend(std::iter::repeat_n(b'a', MAX_ELEMENT_LEN));
        r.push(&big);
        r.push(b"aaaa");
        assert_eq!(all(&mut r), []);
        assert!(r.current.is_empty(), "the buffer does not grow");
        r.push(b"> < echo >");
        assert_eq!(all(&mut r), [ReadElement::Oversize, el("< echo >")]);
    }

    #[test]
    fn an_element_of_exactly_the_bound_is_kept() {
        let mut text = String::from("< ");
        text.push_str(&"a".repeat(MAX_ELEMENT_LEN - 4));
        text.push_str(" >");
        let mut r = ElementReader::new();
        r.push(&text.as_bytes()[..100]);
        r.push(&text.as_bytes()[100..]);
        assert_eq!(all(&mut r), [el(&text)]);
    }
}
