//! [`Output`]: what a connection writes next, as a list of writes.
//!
//! Each chunk is one write. Replies the handshake waits for (`< hi >`,
//! `< ok >`) go alone in their chunk: python-can reads each with one
//! `recv` and requires it to be exactly that element.

/// The writes a session produced, and whether to close after them.
#[derive(Debug, Default)]
pub struct Output {
    /// One entry per write.
    pub chunks: Vec<Vec<u8>>,
    /// Close the connection once the chunks are written.
    pub close: bool,
}

impl Output {
    /// An element written on its own.
    pub fn separate(&mut self, element: &[u8]) {
        self.chunks.push(element.to_vec());
    }

    /// Elements written together (frames).
    pub fn batch(&mut self, text: String) {
        if !text.is_empty() {
            self.chunks.push(text.into_bytes());
        }
    }

    /// Writes `element`, then closes.
    pub fn fail(&mut self, element: &[u8]) {
        self.separate(element);
        self.close = true;
    }

    /// True when there is nothing to write and no close.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty() && !self.close
    }
}
