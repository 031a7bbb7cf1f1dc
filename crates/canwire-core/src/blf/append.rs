//! Appending to an existing BLF file.
//!
//! The file is read through once to find where its last whole object ends. A file
//! whose writer died may end inside a container, or inside an object that runs
//! across containers; then the container holding the start of the cut object is
//! rewritten: its inner bytes up to that object are carried into the new
//! writer's first container, so every whole object stays and nothing half-written
//! remains in the stream.

use std::io::{Read, Seek, SeekFrom, Write};

use super::header::FILE_HEADER_SIZE;
use super::reader::BlfReader;
use super::stream::{Block, ContainerStream};
use super::writer::{BlfWriter, BlfWriterOptions};
use crate::error::{CanwireError, ErrorCode, Result};

fn io_error(e: std::io::Error) -> CanwireError {
    CanwireError::new(ErrorCode::Os, format!("appending to BLF: {e}"))
}

impl<F: Read + Write + Seek> BlfWriter<F> {
    /// Opens an existing BLF file to add objects after its last whole one. The
    /// object count, start time and sizes continue from the file; `options`
    /// apply to what is written from now on (its start time is ignored). A corrupt
    /// file is refused with the reader's error.
    pub fn append(mut file: F, options: BlfWriterOptions) -> Result<Self> {
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        let (header, resume, file_len) = {
            let mut reader = BlfReader::new(&mut file)?;
            for item in reader.by_ref() {
                item?;
            }
            (*reader.header(), reader.resume_point(), reader.stream_pos())
        };
        if header.header_size as usize != FILE_HEADER_SIZE {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                format!(
                    "cannot append to a BLF file with a {}-byte header: only {FILE_HEADER_SIZE}-byte headers are rewritten",
                    header.header_size
                ),
            ));
        }
        let mut carry = Vec::new();
        if resume.carry > 0 {
            file.seek(SeekFrom::Start(resume.file_offset))
                .map_err(io_error)?;
            let mut stream = ContainerStream::new(&mut file, resume.file_offset);
            match stream.next_block(&mut carry)? {
                Block::Data { .. } if carry.len() >= resume.carry => carry.truncate(resume.carry),
                _ => {
                    return Err(CanwireError::new(
                        ErrorCode::Internal,
                        format!(
                            "container at byte offset {} changed while appending",
                            resume.file_offset
                        ),
                    ));
                }
            }
        }
        file.seek(SeekFrom::Start(resume.file_offset))
            .map_err(io_error)?;
        let mut header = header;
        header.object_count = u32::try_from(resume.objects).unwrap_or(u32::MAX);
        header.uncompressed_size = FILE_HEADER_SIZE as u64 + resume.uncompressed;
        header.application = options.application;
        let start = if header.start_time.is_zero() && resume.objects == 0 {
            None
        } else {
            Some(header.start_unix_ns())
        };
        let stop = header.stop_time.to_unix_ns().or(start);
        let mut w = BlfWriter::with_state(file, options, header, resume.file_offset)?;
        w.resume(start, stop, &carry, file_len);
        Ok(w)
    }
}
