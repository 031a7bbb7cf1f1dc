//! Transparent gzip: text readers see decompressed lines, text writers end
//! their gzip stream properly on `finish`.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// Default gzip level for `.gz` logs (zlib's default).
pub const DEFAULT_GZIP_LEVEL: u32 = 6;

/// A byte sink a text writer can end: plain sinks flush, gzip sinks also write
/// their trailer.
pub trait TextSink: Write {
    /// Writes whatever ends the stream and flushes it.
    fn finish_sink(&mut self) -> io::Result<()> {
        self.flush()
    }
}

impl TextSink for Vec<u8> {}
impl<W: Write> TextSink for BufWriter<W> {}
impl<W: TextSink + ?Sized> TextSink for Box<W> {
    fn finish_sink(&mut self) -> io::Result<()> {
        (**self).finish_sink()
    }
}
impl<W: TextSink + ?Sized> TextSink for &mut W {
    fn finish_sink(&mut self) -> io::Result<()> {
        (**self).finish_sink()
    }
}
impl<W: TextSink> TextSink for GzEncoder<W> {
    fn finish_sink(&mut self) -> io::Result<()> {
        self.try_finish()?;
        self.get_mut().finish_sink()
    }
}

/// Wraps a sink in a gzip encoder.
pub fn gzip_sink<W: TextSink>(out: W, level: u32) -> GzEncoder<W> {
    GzEncoder::new(out, Compression::new(level.min(9)))
}

/// A buffered text source that decompresses gzip (several members too) when
/// the input starts with the gzip magic, and passes plain text through.
pub fn text_source<R: Read + Send + 'static>(src: R) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, src);
    let is_gzip = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
    Ok(if is_gzip {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    })
}

/// A buffered text sink over `out`, gzip-compressed if `gzip`.
pub fn text_sink<W: Write + Send + 'static>(
    out: W,
    gzip: bool,
    level: u32,
) -> Box<dyn TextSink + Send> {
    let buffered = BufWriter::with_capacity(64 * 1024, out);
    if gzip {
        Box::new(gzip_sink(buffered, level))
    } else {
        Box::new(buffered)
    }
}
