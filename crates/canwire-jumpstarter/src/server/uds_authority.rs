//! A read-side fix for gRPC C-core clients on Unix sockets (Python grpcio,
//! so every Jumpstarter client): they send `:authority` as the
//! percent-encoded socket path (`tmp%2Fexp%2Fsock`), which the `http`
//! crate refuses as a host, so h2 resets every stream (PROTOCOL_ERROR)
//! before tonic sees it. [`AuthorityFix`] wraps an accepted Unix stream
//! and, in HTTP/2 HEADERS and CONTINUATION frames only, rewrites each `%`
//! of a plain (non-Huffman) `:authority` literal to `_`: same length, so
//! frame sizes and HPACK stay valid. C-core writes that literal with a new
//! name and no Huffman coding; later requests index the table entry the
//! decoder stored, already fixed. Other frames pass through untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The HTTP/2 client connection preface.
const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
/// An HPACK literal with incremental indexing and a new name, then the raw
/// name `:authority` (length 10).
const AUTHORITY_LITERAL: &[u8] = b"\x40\x0a:authority";

/// Where the parser is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Bytes of the preface still to pass.
    Preface(usize),
    /// Collecting a frame header.
    Header,
    /// Passing this many payload bytes of a frame left alone.
    Pass(usize),
    /// Collecting this many payload bytes of a header frame.
    Collect(usize),
}

/// The byte-stream editor, apart from any I/O (tested on its own).
#[derive(Debug)]
pub struct AuthorityEditor {
    part: Part,
    held: Vec<u8>,
}

impl Default for AuthorityEditor {
    fn default() -> Self {
        Self {
            part: Part::Preface(PREFACE_LEN),
            held: Vec::new(),
        }
    }
}

/// Rewrites `%` in every plain `:authority` literal of a header block fragment.
pub fn fix_header_block(block: &mut [u8]) {
    let mut i = 0;
    while let Some(at) = find(&block[i..], AUTHORITY_LITERAL) {
        let len_at = i + at + AUTHORITY_LITERAL.len();
        let Some(&len) = block.get(len_at) else {
            return;
        };
        i = len_at + 1;
        if len & 0x80 != 0 || len == 0x7f {
            continue; // Huffman-coded or a multi-byte length: leave it
        }
        let end = (i + usize::from(len)).min(block.len());
        for b in &mut block[i..end] {
            if *b == b'%' {
                *b = b'_';
            }
        }
        i = end;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl AuthorityEditor {
    /// Feeds bytes as read; appends what may be handed on to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.part {
                Part::Preface(left) | Part::Pass(left) => {
                    let n = left.min(input.len());
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    let rest = left - n;
                    self.part = match self.part {
                        _ if rest == 0 => Part::Header,
                        Part::Preface(_) => Part::Preface(rest),
                        _ => Part::Pass(rest),
                    };
                }
                Part::Header => {
                    let n = (FRAME_HEADER_LEN - self.held.len()).min(input.len());
                    self.held.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    if self.held.len() == FRAME_HEADER_LEN {
                        let h = &self.held;
                        let len =
                            usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
                        let kind = h[3];
                        out.extend_from_slice(h);
                        self.held.clear();
                        self.part = if len == 0 {
                            Part::Header
                        } else if kind == HEADERS || kind == CONTINUATION {
                            Part::Collect(len)
                        } else {
                            Part::Pass(len)
                        };
                    }
                }
                Part::Collect(len) => {
                    let n = (len - self.held.len()).min(input.len());
                    self.held.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    if self.held.len() == len {
                        fix_header_block(&mut self.held);
                        out.append(&mut self.held);
                        self.part = Part::Header;
                    }
                }
            }
        }
    }
}

/// An accepted stream whose reads go through an [`AuthorityEditor`].
pub struct AuthorityFix<IO> {
    io: IO,
    editor: AuthorityEditor,
    ready: Vec<u8>,
    ready_from: usize,
}

impl<IO> AuthorityFix<IO> {
    /// Wraps a freshly accepted stream (nothing read yet).
    pub fn new(io: IO) -> Self {
        Self {
            io,
            editor: AuthorityEditor::default(),
            ready: Vec::new(),
            ready_from: 0,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for AuthorityFix<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_from < this.ready.len() {
                let n = (this.ready.len() - this.ready_from).min(buf.remaining());
                buf.put_slice(&this.ready[this.ready_from..this.ready_from + n]);
                this.ready_from += n;
                return Poll::Ready(Ok(()));
            }
            this.ready.clear();
            this.ready_from = 0;
            let mut raw = [0u8; 8192];
            let mut raw_buf = ReadBuf::new(&mut raw);
            match Pin::new(&mut this.io).poll_read(cx, &mut raw_buf) {
                Poll::Ready(Ok(())) if raw_buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => this.editor.feed(raw_buf.filled(), &mut this.ready),
                other => return other,
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for AuthorityFix<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl<IO: tonic::transport::server::Connected> tonic::transport::server::Connected
    for AuthorityFix<IO>
{
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The preface, a SETTINGS frame, and a HEADERS frame as grpcio sends them.
    fn client_bytes() -> Vec<u8> {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend_from_slice(&[0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
        let block = b"\x40\x05:path\x04/a/b\x40\x0a:authority\x10tmp%2Fexp%2Fsock\x83\x86";
        bytes.extend_from_slice(&[0, 0, block.len() as u8, HEADERS, 0x4, 0, 0, 0, 1]);
        bytes.extend_from_slice(block);
        bytes.extend_from_slice(&[0, 0, 3, 0x0, 0x1, 0, 0, 0, 1, b'%', b'%', b'%']);
        bytes
    }

    #[test]
    fn only_the_authority_literal_changes_whatever_the_read_sizes() {
        let input = client_bytes();
        let mut expected = input.clone();
        let at = find(&expected, b"tmp%2F").unwrap();
        expected[at..at + 16].copy_from_slice(b"tmp_2Fexp_2Fsock");
        for chunk in [1, 2, 5, 9, 64, input.len()] {
            let mut editor = AuthorityEditor::default();
            let mut out = Vec::new();
            for piece in input.chunks(chunk) {
                editor.feed(piece, &mut out);
            }
            assert_eq!(out, expected, "chunk {chunk}");
        }
    }

    #[test]
    fn a_huffman_authority_is_left_alone() {
        let mut block = b"\x40\x0a:authority\x83%%%".to_vec();
        let before = block.clone();
        fix_header_block(&mut block);
        assert_eq!(block, before);
    }
}
