//! The post log: archived posts appended to segment files in the data folder, each found
//! through its [`Location`], which the archive's database keeps by key.
//!
//! Keeping the posts (a few kilobytes each, with their raw records) out of the database's
//! B-tree is the key-value separation of WiscKey and Bitcask: an archived post costs one
//! sequential append, and the database holds 24 bytes per key. A write appends a batch at
//! the committed end of the current segment, syncs it, and only then commits the database
//! transaction that records the new end and the locations; what lies past the committed end
//! after a crash was never acknowledged, and opening the log cuts it off.
//!
//! A record is a 4-byte little-endian length, a 4-byte CRC-32 of the payload, and the payload.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

/// A segment is closed, and the next one started, once it holds this much.
pub(crate) const SEGMENT_BYTES: u64 = 1 << 30;

const HEADER: usize = 8;

/// The batch buffer kept between writes, at most (a write of 16,384 posts fills about 32 MiB).
const BUFFER_KEPT: usize = 48 << 20;

/// Where a record lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub segment: u32,
    /// The record's header.
    pub offset: u64,
    /// The payload's length.
    pub len: u32,
}

impl Location {
    pub const BYTES: usize = 16;

    pub fn encode(self) -> [u8; Location::BYTES] {
        let mut bytes = [0; Location::BYTES];
        bytes[..4].copy_from_slice(&self.segment.to_le_bytes());
        bytes[4..12].copy_from_slice(&self.offset.to_le_bytes());
        bytes[12..].copy_from_slice(&self.len.to_le_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<Location> {
        Some(Location {
            segment: u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?),
            offset: u64::from_le_bytes(bytes.get(4..12)?.try_into().ok()?),
            len: u32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?),
        })
    }
}

/// The committed end of the log: the segment written to, and how far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tail {
    pub segment: u32,
    pub end: u64,
}

impl Tail {
    pub fn encode(self) -> [u8; 12] {
        let mut bytes = [0; 12];
        bytes[..4].copy_from_slice(&self.segment.to_le_bytes());
        bytes[4..].copy_from_slice(&self.end.to_le_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<Tail> {
        Some(Tail {
            segment: u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?),
            end: u64::from_le_bytes(bytes.get(4..12)?.try_into().ok()?),
        })
    }
}

/// The segment files of one archive.
#[derive(Debug)]
pub(crate) struct Log {
    dir: PathBuf,
    /// The committed tail, and the buffer batches are gathered in; held for the whole of a
    /// write.
    writer: Mutex<Writer>,
    files: RwLock<HashMap<u32, Arc<File>>>,
}

/// A record read back: its bytes after the header (which stays in front of them, so that
/// reading costs no copy).
#[derive(Debug)]
pub(crate) struct Payload(Vec<u8>);

impl std::ops::Deref for Payload {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0[HEADER..]
    }
}

#[derive(Debug, Default)]
struct Writer {
    tail: Tail,
    /// Kept from batch to batch, so that its memory is not allocated (and faulted in) anew.
    buffer: Vec<u8>,
}

/// A batch being appended: records go to a buffer, then to the file in one write.
pub(crate) struct Append<'a> {
    log: &'a Log,
    writer: MutexGuard<'a, Writer>,
    /// Where the batch goes.
    start: Tail,
}

impl Log {
    /// Opens the log in `dir` at the committed `tail`, cutting off whatever a crash left past it.
    pub fn open(dir: &Path, tail: Tail) -> std::io::Result<Log> {
        std::fs::create_dir_all(dir)?;
        let log = Log {
            dir: dir.to_owned(),
            writer: Mutex::new(Writer {
                tail,
                buffer: Vec::new(),
            }),
            files: RwLock::default(),
        };
        let file = log.create(tail.segment)?;
        if file.metadata()?.len() > tail.end {
            file.set_len(tail.end)?;
            file.sync_all()?;
        }
        // A later segment is one a crash left half-started.
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if let Some(segment) = segment_number(&entry.file_name().to_string_lossy())
                && segment > tail.segment
            {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(log)
    }

    fn path(&self, segment: u32) -> PathBuf {
        self.dir.join(format!("{segment:08}.log"))
    }

    /// Opens (creating when missing) a segment for writing, and remembers it for reading.
    fn create(&self, segment: u32) -> std::io::Result<Arc<File>> {
        let path = self.path(segment);
        let existed = path.exists();
        let file = Arc::new(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?,
        );
        if !existed {
            // The new name must survive a crash too.
            File::open(&self.dir)?.sync_all()?;
        }
        self.files
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(segment, Arc::clone(&file));
        Ok(file)
    }

    fn file(&self, segment: u32) -> std::io::Result<Arc<File>> {
        if let Some(file) = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&segment)
        {
            return Ok(Arc::clone(file));
        }
        let file = Arc::new(File::open(self.path(segment))?);
        self.files
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(segment, Arc::clone(&file));
        Ok(file)
    }

    /// Starts appending a batch (one at a time: the next waits until this one is done).
    pub fn append(&self) -> Append<'_> {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer.buffer.clear();
        let start = if writer.tail.end >= SEGMENT_BYTES {
            Tail {
                segment: writer.tail.segment + 1,
                end: 0,
            }
        } else {
            writer.tail
        };
        Append {
            log: self,
            writer,
            start,
        }
    }

    /// The payload at `location`, checked against its length and checksum.
    pub fn read(&self, location: Location) -> std::io::Result<Payload> {
        let file = self.file(location.segment)?;
        let mut record = vec![0; HEADER + location.len as usize];
        file.read_exact_at(&mut record, location.offset)?;
        let corrupt = |what: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} at byte {}: {what}",
                    self.path(location.segment).display(),
                    location.offset
                ),
            )
        };
        let (header, payload) = record.split_at(HEADER);
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len != location.len {
            return Err(corrupt("the record's length is not the one recorded"));
        }
        if crc32fast::hash(payload) != crc {
            return Err(corrupt("the record's checksum does not match"));
        }
        Ok(Payload(record))
    }
}

impl Append<'_> {
    /// Adds a record to the batch; it is in the log once [`Append::sync`] returns.
    #[cfg(test)]
    pub fn push(&mut self, payload: &[u8]) -> Location {
        self.push_parts(&[payload])
    }

    /// Adds a record made of `parts` one after the other; in the log once [`Append::sync`]
    /// returns.
    pub fn push_parts(&mut self, parts: &[&[u8]]) -> Location {
        let total: usize = parts.iter().map(|part| part.len()).sum();
        let len = u32::try_from(total).unwrap_or(u32::MAX);
        let buffer = &mut self.writer.buffer;
        let location = Location {
            segment: self.start.segment,
            offset: self.start.end + buffer.len() as u64,
            len,
        };
        let mut crc = crc32fast::Hasher::new();
        let mut left = len as usize;
        let start = buffer.len();
        buffer.extend_from_slice(&len.to_le_bytes());
        buffer.extend_from_slice(&[0; 4]);
        for part in parts {
            let take = part.len().min(left);
            crc.update(&part[..take]);
            buffer.extend_from_slice(&part[..take]);
            left -= take;
        }
        buffer[start + 4..start + HEADER].copy_from_slice(&crc.finalize().to_le_bytes());
        location
    }

    /// The tail once this batch is in: what the database must record in the same
    /// transaction as the batch's locations.
    pub fn new_tail(&self) -> Tail {
        Tail {
            segment: self.start.segment,
            end: self.start.end + self.writer.buffer.len() as u64,
        }
    }

    /// Writes the batch at the committed end and syncs it. Nothing is acknowledged yet: the
    /// caller commits the locations, then calls [`Append::committed`].
    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.writer.buffer.is_empty() {
            return Ok(());
        }
        let file = if self.start.segment == self.writer.tail.segment {
            self.log.file(self.start.segment)?
        } else {
            self.log.create(self.start.segment)?
        };
        file.write_all_at(&self.writer.buffer, self.start.end)?;
        file.sync_data()
    }

    /// Records that the database committed the batch.
    pub fn committed(mut self) {
        self.writer.tail = self.new_tail();
        // A rare huge batch does not keep its memory.
        if self.writer.buffer.capacity() > BUFFER_KEPT {
            self.writer.buffer = Vec::new();
        }
    }
}

fn segment_number(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".log")?;
    (digits.len() == 8 && digits.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// A 64-bit FNV-1a hash: stable across builds and platforms, as what is kept on disk must be.
pub(crate) fn content_hash(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in *part {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_and_an_uncommitted_batch_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let tail = {
            let log = Log::open(dir.path(), Tail::default()).unwrap();
            let mut append = log.append();
            let first = append.push(b"first");
            let second = append.push("دوم".as_bytes());
            append.sync().unwrap();
            let tail = append.new_tail();
            append.committed();
            assert_eq!(&*log.read(first).unwrap(), b"first");
            assert_eq!(&*log.read(second).unwrap(), "دوم".as_bytes());
            // Written and synced, but never committed: a crash before the database commit.
            let mut append = log.append();
            append.push(b"lost");
            append.sync().unwrap();
            tail
        };
        let path = dir.path().join("00000000.log");
        assert!(std::fs::metadata(&path).unwrap().len() > tail.end);
        let log = Log::open(dir.path(), tail).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), tail.end);
        let mut append = log.append();
        let third = append.push(b"third");
        assert_eq!(third.offset, tail.end);
        append.sync().unwrap();
        append.committed();
        assert_eq!(&*log.read(third).unwrap(), b"third");
    }

    #[test]
    fn a_damaged_record_is_an_error_not_wrong_data() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), Tail::default()).unwrap();
        let mut append = log.append();
        let location = append.push(b"evidence");
        append.sync().unwrap();
        append.committed();
        let file = OpenOptions::new()
            .write(true)
            .open(dir.path().join("00000000.log"))
            .unwrap();
        file.write_all_at(b"E", HEADER as u64).unwrap();
        let error = log.read(location).unwrap_err();
        assert!(error.to_string().contains("checksum"), "{error}");
    }

    #[test]
    fn a_full_segment_starts_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(
            dir.path(),
            Tail {
                segment: 0,
                end: SEGMENT_BYTES,
            },
        )
        .unwrap();
        let mut append = log.append();
        let location = append.push(b"next");
        assert_eq!(location.segment, 1);
        assert_eq!(location.offset, 0);
        append.sync().unwrap();
        append.committed();
        assert_eq!(&*log.read(location).unwrap(), b"next");
        assert!(dir.path().join("00000001.log").exists());
    }

    #[test]
    fn the_content_hash_is_fixed() {
        // Stored on disk: a change here would make every archived post look edited.
        assert_eq!(content_hash(&[]), 0xcbf2_9ce4_8422_2325);
        assert_ne!(content_hash(&[b"ab", b"c"]), content_hash(&[b"a", b"bc"]));
        // Computed independently (FNV-1a 64 with a 0xff byte after each part, in Python).
        assert_eq!(
            content_hash(&[b"", "سلام".as_bytes()]),
            0x0ec1_6876_780c_23ee
        );
        assert_eq!(content_hash(&[b"a", b"bc"]), 0xa0a3_542c_19b9_00ab);
    }
}
