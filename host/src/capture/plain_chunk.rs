//! The records of an uncompressed, intact MCAP chunk, read in place.
//!
//! dagr writes its captures without compression, and a replay reads every chunk (up to
//! [`CHUNK_SIZE`](super::writer::CHUNK_SIZE) bytes, hundreds of messages). The MCAP crate's
//! reader copies the chunk into its own fresh buffer and every record out of it again; here
//! the records are borrowed from the chunk record as read from the file. Only a chunk that
//! checks out completely is read this way: no compression, its CRC right (or absent), its
//! records tiling the records section exactly. Anything else (a compressed chunk of another
//! tool's writer, a damaged one) is left to the MCAP reader, which then yields what it
//! yielded before or names what is wrong, so a capture reads the same either way.

/// MCAP opcode and length before every record.
const RECORD_HEAD: usize = 1 + 8;
/// A chunk's header without its compression name: start and end time, uncompressed size,
/// CRC, the compression name's length (0 here), compressed size.
const HEADER: usize = 8 + 8 + 8 + 4 + 4 + 8;

/// The records section of an intact uncompressed chunk (checked in [`PlainChunk::check`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct PlainChunk<'a> {
    records: &'a [u8],
}

impl<'a> PlainChunk<'a> {
    /// `record` (a whole chunk record: opcode, length, body) when it is uncompressed, its
    /// CRC matches (a CRC of 0 means none was written) and its records section is whole
    /// records end to end; `None` otherwise.
    pub(super) fn check(record: &'a [u8]) -> Option<PlainChunk<'a>> {
        let body = record.get(RECORD_HEAD..)?;
        let header = body.get(..HEADER)?;
        let crc = u32::from_le_bytes(header[24..28].try_into().ok()?);
        let compression_len = u32::from_le_bytes(header[28..32].try_into().ok()?);
        if compression_len != 0 {
            return None;
        }
        let size = u64::from_le_bytes(header[32..40].try_into().ok()?);
        let records = body.get(HEADER..)?.get(..usize::try_from(size).ok()?)?;
        if crc != 0 && crc32fast::hash(records) != crc {
            return None;
        }
        let chunk = PlainChunk { records };
        let mut framed = 0;
        for (_, data) in chunk.iter() {
            framed += RECORD_HEAD + data.len();
        }
        (framed == records.len()).then_some(chunk)
    }

    /// The chunk's records in order, each its opcode and body.
    pub(super) fn iter(self) -> impl Iterator<Item = (u8, &'a [u8])> {
        let mut rest = self.records;
        std::iter::from_fn(move || {
            let head = rest.get(..RECORD_HEAD)?;
            let len = usize::try_from(u64::from_le_bytes(head[1..].try_into().ok()?)).ok()?;
            let data = rest.get(RECORD_HEAD..)?.get(..len)?;
            let opcode = head[0];
            rest = &rest[RECORD_HEAD + len..];
            Some((opcode, data))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk record as MCAP lays it out, with `records` as its records section.
    fn chunk(compression: &str, crc: u32, records: &[u8], padding: usize) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&1u64.to_le_bytes());
        body.extend_from_slice(&2u64.to_le_bytes());
        body.extend_from_slice(&(records.len() as u64).to_le_bytes());
        body.extend_from_slice(&crc.to_le_bytes());
        body.extend_from_slice(&(compression.len() as u32).to_le_bytes());
        body.extend_from_slice(compression.as_bytes());
        body.extend_from_slice(&(records.len() as u64).to_le_bytes());
        body.extend_from_slice(records);
        body.resize(body.len() + padding, 0xAA);
        let mut record = vec![0x06];
        record.extend_from_slice(&(body.len() as u64).to_le_bytes());
        record.extend_from_slice(&body);
        record
    }

    fn framed(records: &[(u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (opcode, data) in records {
            out.push(*opcode);
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn an_intact_chunk_yields_its_records_in_place() {
        let records = framed(&[(0x05, b"message one"), (0x05, b""), (0x04, b"channel")]);
        for crc in [crc32fast::hash(&records), 0] {
            for padding in [0, 5] {
                let record = chunk("", crc, &records, padding);
                let read: Vec<_> = PlainChunk::check(&record).expect("intact").iter().collect();
                assert_eq!(
                    read,
                    [
                        (0x05, &b"message one"[..]),
                        (0x05, &b""[..]),
                        (0x04, &b"channel"[..])
                    ],
                    "crc {crc:#x}, padding {padding}"
                );
            }
        }
        let empty = chunk("", 0, &[], 0);
        assert_eq!(PlainChunk::check(&empty).expect("intact").iter().count(), 0);
    }

    /// The chunk records of an MCAP file, each whole (opcode, length, body).
    fn chunk_records(file: &[u8]) -> Vec<&[u8]> {
        let mut rest = &file[8..];
        let mut chunks = Vec::new();
        while rest.len() >= RECORD_HEAD {
            let len = u64::from_le_bytes(rest[1..9].try_into().unwrap()) as usize;
            if rest[0] == 0x06 {
                chunks.push(&rest[..RECORD_HEAD + len]);
            }
            rest = &rest[(RECORD_HEAD + len).min(rest.len())..];
        }
        chunks
    }

    #[test]
    fn the_mcap_writers_chunks_read_as_the_mcap_reader_reads_them() {
        let mut writer = mcap::WriteOptions::new()
            .compression(None)
            .chunk_size(Some(4096))
            .create(std::io::Cursor::new(Vec::new()))
            .unwrap();
        let channel = writer
            .add_channel(0, "sim-wifi-1", "dagr.raw", &Default::default())
            .unwrap();
        for i in 0..500u32 {
            let header = mcap::records::MessageHeader {
                channel_id: channel,
                sequence: i,
                log_time: u64::from(i) * 1000,
                publish_time: u64::from(i) * 1000,
            };
            let data: Vec<u8> = (0..i % 97).map(|b| (b * 7 + i) as u8).collect();
            writer.write_to_known_channel(&header, &data).unwrap();
        }
        writer.finish().unwrap();
        let file = writer.into_inner().into_inner();
        let chunks = chunk_records(&file);
        assert!(chunks.len() > 5, "{} chunks", chunks.len());
        for record in chunks {
            let fast: Vec<(u8, Vec<u8>)> = PlainChunk::check(record)
                .expect("an intact chunk")
                .iter()
                .map(|(opcode, data)| (opcode, data.to_vec()))
                .collect();
            assert_eq!(fast, super::super::reader::decode_chunk(record).unwrap());
        }
    }

    #[test]
    fn compressed_damaged_or_misframed_chunks_are_left_to_the_mcap_reader() {
        let records = framed(&[(0x05, b"message one"), (0x05, b"two")]);
        let crc = crc32fast::hash(&records);
        assert!(PlainChunk::check(&chunk("zstd", crc, &records, 0)).is_none());
        assert!(PlainChunk::check(&chunk("", crc ^ 1, &records, 0)).is_none());
        // A record running past the records section (its length one too long).
        let mut long = records.clone();
        long[1] += 1;
        assert!(PlainChunk::check(&chunk("", 0, &long, 4)).is_none());
        // A section ending inside a record header.
        let cut = &records[..records.len() - 3 - 9 + 4];
        assert!(PlainChunk::check(&chunk("", 0, cut, 0)).is_none());
        // A compressed size beyond the record, a record shorter than a header.
        let mut past = chunk("", 0, &records, 0);
        past[9 + 32] += 1;
        assert!(PlainChunk::check(&past).is_none());
        assert!(PlainChunk::check(&past[..30]).is_none());
    }
}
