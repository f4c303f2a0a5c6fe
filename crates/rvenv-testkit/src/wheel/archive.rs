//! Writing a wheel's entries into a zip: with the zip crate normally, or byte by byte when a
//! test needs what the zip crate refuses to write (duplicate names, sizes that lie).

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::Compression;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub path: String,
    /// The content; for a symlink, its target.
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub symlink: bool,
    /// The uncompressed size the zip headers claim, when it is a lie.
    pub declared_size: Option<u32>,
}

impl Entry {
    pub fn file(path: String, bytes: impl Into<Vec<u8>>, mode: u32) -> Self {
        Self {
            path,
            bytes: bytes.into(),
            mode,
            symlink: false,
            declared_size: None,
        }
    }

    pub fn symlink(path: String, target: &str) -> Self {
        Self {
            path,
            bytes: target.as_bytes().to_vec(),
            mode: 0o777,
            symlink: true,
            declared_size: None,
        }
    }
}

/// A zip written with the zip crate; it refuses duplicate names.
pub(super) fn write_zip(
    entries: &[Entry],
    compression: Compression,
) -> zip::result::ZipResult<Vec<u8>> {
    let method = match compression {
        Compression::Deflated => CompressionMethod::Deflated,
        Compression::Stored => CompressionMethod::Stored,
    };
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for entry in entries {
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .unix_permissions(entry.mode);
        if entry.symlink {
            zip.add_symlink(
                entry.path.as_str(),
                String::from_utf8_lossy(&entry.bytes),
                options,
            )?;
        } else {
            zip.start_file(entry.path.as_str(), options)?;
            zip.write_all(&entry.bytes)?;
        }
    }
    Ok(zip.finish()?.into_inner())
}

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
/// Version 2.0: what plain stored entries need.
const VERSION: u16 = 20;
/// "Made by" Unix (3), so readers take the mode from the external attributes.
const MADE_BY_UNIX: u16 = (3 << 8) | VERSION;
/// General purpose flag bit 11: names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// 1980-01-01, the zip epoch, in MS-DOS date format.
const DOS_DATE: u16 = (1 << 5) | 1;
const SYMLINK_TYPE: u32 = 0o120_000;
const FILE_TYPE: u32 = 0o100_000;

/// A zip of stored entries written field by field (APPNOTE 4.3): any names, duplicates
/// included, and declared sizes taken from [`Entry::declared_size`]. No zip64: entries and the
/// archive must stay below 4 GiB, which in-memory test archives do.
pub(super) fn write_raw_zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let mut crc = flate2::Crc::new();
        crc.update(&entry.bytes);
        let stored_size = entry.bytes.len() as u32;
        let declared_size = entry.declared_size.unwrap_or(stored_size);
        let name = entry.path.as_bytes();

        put32(&mut out, LOCAL_HEADER);
        put16(&mut out, VERSION);
        put16(&mut out, UTF8_NAMES);
        put16(&mut out, 0); // method: stored
        put16(&mut out, 0); // time
        put16(&mut out, DOS_DATE);
        put32(&mut out, crc.sum());
        put32(&mut out, stored_size);
        put32(&mut out, declared_size);
        put16(&mut out, name.len() as u16);
        put16(&mut out, 0); // extra field length
        out.extend_from_slice(name);
        out.extend_from_slice(&entry.bytes);

        let file_type = if entry.symlink {
            SYMLINK_TYPE
        } else {
            FILE_TYPE
        };
        put32(&mut central, CENTRAL_HEADER);
        put16(&mut central, MADE_BY_UNIX);
        put16(&mut central, VERSION);
        put16(&mut central, UTF8_NAMES);
        put16(&mut central, 0); // method: stored
        put16(&mut central, 0); // time
        put16(&mut central, DOS_DATE);
        put32(&mut central, crc.sum());
        put32(&mut central, stored_size);
        put32(&mut central, declared_size);
        put16(&mut central, name.len() as u16);
        put16(&mut central, 0); // extra field length
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number
        put16(&mut central, 0); // internal attributes
        put32(&mut central, (file_type | entry.mode) << 16);
        put32(&mut central, offset);
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    put32(&mut out, END_OF_CENTRAL_DIRECTORY);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk with the central directory
    put16(&mut out, entries.len() as u16);
    put16(&mut out, entries.len() as u16);
    put32(&mut out, central.len() as u32);
    put32(&mut out, central_offset);
    put16(&mut out, 0); // comment length
    out
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Read;

    use super::*;

    /// The entry count the end-of-central-directory record declares.
    pub(crate) fn declared_entries(zip: &[u8]) -> u16 {
        let eocd = &zip[zip.len() - 22..];
        assert_eq!(eocd[..4], END_OF_CENTRAL_DIRECTORY.to_le_bytes());
        u16::from_le_bytes([eocd[10], eocd[11]])
    }

    #[test]
    fn raw_zip_reads_back_with_duplicates_and_symlinks() {
        let entries = [
            Entry::file("a/b.txt".into(), "one", 0o644),
            Entry::symlink("a/link".into(), "../b.txt"),
            Entry::file("a/b.txt".into(), "two", 0o755),
        ];
        let bytes = write_raw_zip(&entries);
        assert_eq!(declared_entries(&bytes), 3);
        // The zip crate keeps one entry per name (the last): readers must not rely on it to
        // notice duplicates.
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut text = String::new();
        archive
            .by_name("a/b.txt")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "two");
        assert_eq!(
            archive.by_name("a/b.txt").unwrap().unix_mode(),
            Some(0o100_755)
        );
        assert!(archive.by_name("a/link").unwrap().is_symlink());
    }

    #[test]
    fn declared_sizes_can_lie() {
        let mut entry = Entry::file("bomb.txt".into(), "tiny", 0o644);
        entry.declared_size = Some(u32::MAX);
        let mut archive = zip::ZipArchive::new(Cursor::new(write_raw_zip(&[entry]))).unwrap();
        assert_eq!(archive.by_index(0).unwrap().size(), u64::from(u32::MAX));
    }
}
