//! Why part of a capture could not be read: what was wrong with a damaged part the reader
//! skipped ([`DamageReason`]) and why reading stopped before the file's data end
//! ([`StopReason`]). Each keeps the MCAP layer's or the file system's error as its cause;
//! [`crate::errors::chain`] says one on a line.
use std::sync::Arc;

/// What was wrong with the first record of a damaged part of a capture.
///
/// Clone (the causes are shared) so a report can keep the reader's damage list.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DamageReason {
    /// A record header with an unknown opcode or a length past the reader's limit.
    #[error("invalid record header (opcode {opcode:#04x}, length {len})")]
    InvalidHeader {
        /// The header's opcode.
        opcode: u8,
        /// The header's record length, bytes.
        len: u64,
    },
    /// A record whose length runs past the end of the file while later chunks are indexed.
    #[error("record length {len} past the end of the file")]
    PastEnd {
        /// The header's record length, bytes.
        len: u64,
    },
    /// A record outside the chunks (a definition, metadata, an index) that does not parse.
    #[error("record {opcode:#04x} does not parse")]
    Record {
        /// The record's opcode.
        opcode: u8,
        /// The MCAP layer's complaint.
        #[source]
        cause: Arc<mcap::McapError>,
    },
    /// A chunk that fails its CRC, does not decompress or whose records do not parse.
    #[error("chunk does not decode")]
    Chunk(#[source] Arc<mcap::McapError>),
}

/// Why reading a capture stopped before its data end (the file was cut short, or could not
/// be read on).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StopReason {
    /// The file ends inside a record.
    #[error("unexpected end of file")]
    UnexpectedEnd,
    /// The file ends at a record boundary before the data end record.
    #[error("no data end record (unexpected end of file)")]
    NoDataEnd,
    /// The footer is not followed by the closing magic bytes.
    #[error("no closing magic after the footer")]
    NoClosingMagic,
    /// The file system refused a read or a seek.
    #[error(transparent)]
    Io(Arc<std::io::Error>),
    /// A damaged record with nothing readable after it in a file without a summary: a file
    /// cut short, or still being written.
    #[error(transparent)]
    Damaged(DamageReason),
}

impl From<std::io::Error> for StopReason {
    fn from(e: std::io::Error) -> Self {
        StopReason::Io(Arc::new(e))
    }
}

/// Same variant, saying the same thing: the MCAP layer's and the file system's errors have
/// no equality of their own, so their text stands for them.
fn same(a: &(dyn std::error::Error + 'static), b: &(dyn std::error::Error + 'static)) -> bool {
    crate::errors::chain(a) == crate::errors::chain(b)
}

impl PartialEq for DamageReason {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other) && same(self, other)
    }
}

impl Eq for DamageReason {}

impl PartialEq for StopReason {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other) && same(self, other)
    }
}

impl Eq for StopReason {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_keep_their_cause_and_compare_by_what_they_say() {
        let crc = || {
            Arc::new(mcap::McapError::BadChunkCrc {
                saved: 1,
                calculated: 2,
            })
        };
        let chunk = DamageReason::Chunk(crc());
        let said = crate::errors::chain(&chunk);
        assert!(said.starts_with("chunk does not decode: "), "{said}");
        assert!(said.len() > "chunk does not decode: ".len(), "{said}");
        assert_eq!(chunk, DamageReason::Chunk(crc()));
        let cut = StopReason::Damaged(chunk.clone());
        assert_eq!(crate::errors::chain(&cut), said);
        assert_ne!(cut, StopReason::UnexpectedEnd);
        let io = StopReason::from(std::io::Error::other("disk gone"));
        assert_eq!(crate::errors::chain(&io), "disk gone");
    }
}
