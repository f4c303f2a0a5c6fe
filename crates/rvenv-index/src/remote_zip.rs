//! A wheel's METADATA read out of its zip file, remotely with HTTP range requests or from a
//! local file.
//!
//! Remotely: one suffix request reads the end of central directory record (and usually the
//! central directory, and often METADATA itself, since wheels put `.dist-info` last); further
//! requests fetch only what is missing. The zip format facts used (APPNOTE.TXT):
//! end of central directory `PK\x05\x06` (22 bytes + comment), zip64 locator `PK\x06\x07`
//! (20 bytes, just before it) and record `PK\x06\x06`, central headers `PK\x01\x02` (46 bytes +
//! name + extra + comment), local headers `PK\x03\x04` (30 bytes + name + extra).

use std::io::Read;
use std::path::Path;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_RANGE, RANGE};
use reqwest::StatusCode;
use url::Url;

use crate::client::{classify, IndexClient, StreamingResponse};
use crate::error::IndexError;
use crate::filename::{dist_info_project, normalize_name};
use crate::redact::redact_url;

/// Bytes asked for in the first, suffix request.
const SUFFIX: u64 = 64 * 1024;
/// METADATA larger than this is not a real wheel's.
const MAX_METADATA: u64 = 32 * 1024 * 1024;

/// What the range reader got.
pub(crate) enum RangeOutcome {
    /// The METADATA file's bytes.
    Metadata(Vec<u8>),
    /// The server ignored the Range header and is sending the whole file.
    WholeFile(Box<StreamingResponse>),
    /// The server refused the range (416): download the file instead.
    Unsatisfiable,
}

/// A piece of the remote file.
struct Window {
    start: u64,
    data: Vec<u8>,
}

impl Window {
    fn slice(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let begin = offset.checked_sub(self.start)?;
        let end = begin.checked_add(len)?;
        let (begin, end) = (usize::try_from(begin).ok()?, usize::try_from(end).ok()?);
        self.data.get(begin..end)
    }
}

struct Windows(Vec<Window>);

impl Windows {
    fn slice(&self, offset: u64, len: u64) -> Option<&[u8]> {
        self.0.iter().find_map(|window| window.slice(offset, len))
    }
}

/// One central directory entry.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    method: u16,
    crc32: u32,
    compressed_size: u64,
    uncompressed_size: u64,
    local_header_offset: u64,
}

/// Reads `<name>.dist-info/METADATA` of the wheel at `url` with range requests.
pub(crate) async fn metadata_by_ranges(
    client: &IndexClient,
    url: &Url,
    filename: &str,
) -> Result<RangeOutcome, IndexError> {
    let bad = |message: String| IndexError::RemoteZip {
        url: redact_url(url),
        message,
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        RANGE,
        HeaderValue::from_str(&format!("bytes=-{SUFFIX}")).expect("ASCII header value"),
    );
    let streaming = client.send_with_retries(url, &headers).await?;
    let status = streaming.response.status();
    match status {
        StatusCode::PARTIAL_CONTENT => {}
        StatusCode::OK => return Ok(RangeOutcome::WholeFile(Box::new(streaming))),
        StatusCode::RANGE_NOT_SATISFIABLE => return Ok(RangeOutcome::Unsatisfiable),
        status => return Err(client.status_error(&streaming.url, status)),
    }
    let (start, total) = content_range(streaming.response.headers())
        .ok_or_else(|| bad("206 answer without a usable Content-Range".into()))?;
    let final_url = streaming.url.clone();
    let data = streaming
        .response
        .bytes()
        .await
        .map_err(|err| classify(err.without_url(), &final_url))?
        .to_vec();
    let mut windows = Windows(vec![Window { start, data }]);

    let tail = &windows.0[0];
    let eocd = find_directory(tail, total).map_err(bad)?;
    if windows.slice(eocd.offset, eocd.size).is_none() {
        let window = fetch_range(client, url, eocd.offset, eocd.size).await?;
        windows.0.push(window);
    }
    let directory = windows
        .slice(eocd.offset, eocd.size)
        .ok_or_else(|| bad("the server sent a shorter range than asked".into()))?;
    let entries = parse_central_directory(directory, eocd.entries).map_err(bad)?;
    let entry = choose_metadata(&entries, filename)
        .ok_or_else(|| bad("no .dist-info/METADATA in the wheel".into()))?
        .clone();
    if entry.uncompressed_size > MAX_METADATA || entry.compressed_size > MAX_METADATA {
        return Err(bad(format!("{} is implausibly large", entry.name)));
    }

    // The local header's extra field may differ from the central one; ask for some slack.
    let wanted = 30 + entry.name.len() as u64 + 1024 + entry.compressed_size;
    let wanted = wanted.min(total.saturating_sub(entry.local_header_offset));
    let mut data = local_entry_data(&windows, &entry);
    if data.is_none() {
        let window = fetch_range(client, url, entry.local_header_offset, wanted).await?;
        windows.0.push(window);
        data = local_entry_data(&windows, &entry);
    }
    let data = data.ok_or_else(|| bad(format!("could not locate the data of {}", entry.name)))?;
    let data = data.map_err(bad)?;
    inflate(&entry, data)
        .map(RangeOutcome::Metadata)
        .map_err(bad)
}

async fn fetch_range(
    client: &IndexClient,
    url: &Url,
    offset: u64,
    len: u64,
) -> Result<Window, IndexError> {
    let last = offset + len.max(1) - 1;
    let response = client
        .get_range(url, &format!("bytes={offset}-{last}"))
        .await?;
    if response.status != StatusCode::PARTIAL_CONTENT {
        return Err(IndexError::RemoteZip {
            url: redact_url(url),
            message: format!("range request answered {}", response.status),
        });
    }
    let start = content_range(&response.headers)
        .map(|(start, _)| start)
        .unwrap_or(offset);
    Ok(Window {
        start,
        data: response.body,
    })
}

/// `Content-Range: bytes <start>-<end>/<total>` -> `(start, total)`.
fn content_range(headers: &HeaderMap) -> Option<(u64, u64)> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = value.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// Where the central directory is and how many entries it has.
struct DirectoryLocation {
    offset: u64,
    size: u64,
    entries: u64,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(buf)
}

/// Finds the end of central directory record in the file's tail (which must end at `total`).
fn find_directory(tail: &Window, total: u64) -> Result<DirectoryLocation, String> {
    let data = &tail.data;
    if tail.start + data.len() as u64 != total || data.len() < 22 {
        return Err("the file is too short to be a zip".into());
    }
    let eocd = (0..=data.len() - 22)
        .rev()
        .find(|&at| data[at..at + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or("no end of central directory record (not a zip file?)")?;
    let mut location = DirectoryLocation {
        entries: u64::from(u16_at(data, eocd + 10)),
        size: u64::from(u32_at(data, eocd + 12)),
        offset: u64::from(u32_at(data, eocd + 16)),
    };
    let is_zip64 = location.entries == 0xffff
        || location.size == 0xffff_ffff
        || location.offset == 0xffff_ffff;
    if is_zip64 {
        let locator = eocd
            .checked_sub(20)
            .filter(|&at| data[at..at + 4] == [0x50, 0x4b, 0x06, 0x07])
            .ok_or("zip64 file without a zip64 locator")?;
        let record_offset = u64_at(data, locator + 8);
        let record = tail
            .slice(record_offset, 56)
            .filter(|record| record[..4] == [0x50, 0x4b, 0x06, 0x06])
            .ok_or("zip64 end of central directory record not found")?;
        location = DirectoryLocation {
            entries: u64_at(record, 32),
            size: u64_at(record, 40),
            offset: u64_at(record, 48),
        };
    }
    if location.offset + location.size > total {
        return Err("central directory lies outside the file".into());
    }
    Ok(location)
}

fn parse_central_directory(bytes: &[u8], expected: u64) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at + 46 <= bytes.len() && bytes[at..at + 4] == [0x50, 0x4b, 0x01, 0x02] {
        let name_len = usize::from(u16_at(bytes, at + 28));
        let extra_len = usize::from(u16_at(bytes, at + 30));
        let comment_len = usize::from(u16_at(bytes, at + 32));
        let end = at + 46 + name_len + extra_len + comment_len;
        if end > bytes.len() {
            return Err("truncated central directory".into());
        }
        let name = String::from_utf8_lossy(&bytes[at + 46..at + 46 + name_len]).into_owned();
        let mut entry = Entry {
            name,
            method: u16_at(bytes, at + 10),
            crc32: u32_at(bytes, at + 16),
            compressed_size: u64::from(u32_at(bytes, at + 20)),
            uncompressed_size: u64::from(u32_at(bytes, at + 24)),
            local_header_offset: u64::from(u32_at(bytes, at + 42)),
        };
        apply_zip64_extra(
            &mut entry,
            &bytes[at + 46 + name_len..at + 46 + name_len + extra_len],
        );
        entries.push(entry);
        at = end;
    }
    if (entries.len() as u64) < expected.min(1) {
        return Err("empty central directory".into());
    }
    Ok(entries)
}

/// The zip64 extended information field (id 1) holds, in order, the 64-bit values of the fields
/// that are 0xffffffff in the fixed header.
fn apply_zip64_extra(entry: &mut Entry, mut extra: &[u8]) {
    while extra.len() >= 4 {
        let id = u16_at(extra, 0);
        let len = usize::from(u16_at(extra, 2));
        let Some(body) = extra.get(4..4 + len) else {
            return;
        };
        if id == 1 {
            let mut values = body.chunks_exact(8).map(|chunk| u64_at(chunk, 0));
            for field in [
                &mut entry.uncompressed_size,
                &mut entry.compressed_size,
                &mut entry.local_header_offset,
            ] {
                if *field == 0xffff_ffff {
                    match values.next() {
                        Some(value) => *field = value,
                        None => return,
                    }
                }
            }
            return;
        }
        extra = &extra[4 + len..];
    }
}

/// `<project>-<version>.dist-info/METADATA` at the top level, preferring the directory of the
/// wheel's own project.
fn choose_metadata<'a>(entries: &'a [Entry], wheel_filename: &str) -> Option<&'a Entry> {
    choose_metadata_name(
        entries.iter().map(|entry| entry.name.as_str()),
        wheel_filename,
    )
    .and_then(|name| entries.iter().find(|entry| entry.name == name))
}

fn choose_metadata_name<'a>(
    names: impl Iterator<Item = &'a str>,
    wheel_filename: &str,
) -> Option<&'a str> {
    let project = normalize_name(wheel_filename.split('-').next().unwrap_or(""));
    let mut fallback = None;
    for name in names {
        let Some((dir, "METADATA")) = name.split_once('/') else {
            continue;
        };
        if !dir.ends_with(".dist-info") {
            continue;
        }
        if dist_info_project(dir).as_deref() == Some(project.as_str()) {
            return Some(name);
        }
        fallback.get_or_insert(name);
    }
    fallback
}

/// The entry's compressed bytes, once the local header and the data are in the windows.
fn local_entry_data<'a>(windows: &'a Windows, entry: &Entry) -> Option<Result<&'a [u8], String>> {
    let header = windows.slice(entry.local_header_offset, 30)?;
    if header[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Some(Err(format!("bad local header for {}", entry.name)));
    }
    let skip = 30 + u64::from(u16_at(header, 26)) + u64::from(u16_at(header, 28));
    windows
        .slice(entry.local_header_offset + skip, entry.compressed_size)
        .map(Ok)
}

/// Decompresses (stored or deflated) and checks the CRC-32.
fn inflate(entry: &Entry, data: &[u8]) -> Result<Vec<u8>, String> {
    let bytes = match entry.method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::with_capacity(entry.uncompressed_size as usize);
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_METADATA)
                .read_to_end(&mut out)
                .map_err(|err| format!("could not inflate {}: {err}", entry.name))?;
            out
        }
        method => return Err(format!("{} uses compression method {method}", entry.name)),
    };
    let mut crc = flate2::Crc::new();
    crc.update(&bytes);
    if crc.sum() != entry.crc32 {
        return Err(format!("CRC mismatch in {}", entry.name));
    }
    Ok(bytes)
}

/// Reads METADATA from a wheel on disk.
pub(crate) fn metadata_from_wheel_file(
    path: &Path,
    wheel_filename: &str,
) -> Result<Vec<u8>, IndexError> {
    let zip_error = |source| IndexError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let file = fs_err::File::open(path)?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|name| name.ok().map(|name| name.into_owned()))
        .collect();
    let name = choose_metadata_name(names.iter().map(String::as_str), wheel_filename)
        .map(str::to_string)
        .ok_or_else(|| IndexError::Metadata {
            file: path.display().to_string(),
            message: "no .dist-info/METADATA in the wheel".into(),
        })?;
    let mut entry = archive.by_name(&name).map_err(zip_error)?;
    let mut bytes = Vec::new();
    (&mut entry)
        .take(MAX_METADATA)
        .read_to_end(&mut bytes)
        .map_err(IndexError::Io)?;
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A wheel with a large incompressible file before its `.dist-info`, so the METADATA entry
    /// sits beyond the first suffix request only when `padding` is big.
    pub fn build_wheel(name: &str, version: &str, metadata: &str, padding: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(format!("{name}/__init__.py"), deflated)
            .unwrap();
        zip.write_all(b"VALUE = 1\n").unwrap();
        zip.start_file(format!("{name}/blob.bin"), stored).unwrap();
        let mut state = 0x2545_f491_u32;
        let blob: Vec<u8> = (0..padding)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        zip.write_all(&blob).unwrap();
        let dist_info = format!("{name}-{version}.dist-info");
        zip.start_file(format!("{dist_info}/METADATA"), deflated)
            .unwrap();
        zip.write_all(metadata.as_bytes()).unwrap();
        zip.start_file(format!("{dist_info}/WHEEL"), deflated)
            .unwrap();
        zip.write_all(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            .unwrap();
        zip.start_file(format!("{dist_info}/RECORD"), deflated)
            .unwrap();
        zip.write_all(b"").unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn tail_window(bytes: &[u8], len: usize) -> Window {
        let start = bytes.len().saturating_sub(len);
        Window {
            start: start as u64,
            data: bytes[start..].to_vec(),
        }
    }

    #[test]
    fn reads_metadata_from_windows_of_a_zip() {
        let metadata = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";
        let wheel = build_wheel("demo", "1.0", metadata, 200_000);
        let total = wheel.len() as u64;
        let tail = tail_window(&wheel, 4096);
        let location = find_directory(&tail, total).unwrap();
        let windows = Windows(vec![tail]);
        let directory = windows.slice(location.offset, location.size).unwrap();
        let entries = parse_central_directory(directory, location.entries).unwrap();
        assert_eq!(entries.len(), 5);
        let entry = choose_metadata(&entries, "demo-1.0-py3-none-any.whl").unwrap();
        assert_eq!(entry.name, "demo-1.0.dist-info/METADATA");
        let data = local_entry_data(&windows, entry).unwrap().unwrap();
        assert_eq!(inflate(entry, data).unwrap(), metadata.as_bytes());
    }

    #[test]
    fn rejects_non_zip_and_bad_crc() {
        let junk = Window {
            start: 0,
            data: vec![0u8; 100],
        };
        assert!(find_directory(&junk, 100).is_err());
        let entry = Entry {
            name: "x".into(),
            method: 0,
            crc32: 1,
            compressed_size: 3,
            uncompressed_size: 3,
            local_header_offset: 0,
        };
        assert!(inflate(&entry, b"abc").unwrap_err().contains("CRC"));
    }

    #[test]
    fn prefers_the_wheels_own_dist_info() {
        let names = [
            "other-1.0.dist-info/METADATA",
            "Demo_Pkg-1.0.dist-info/METADATA",
            "a/b/METADATA",
        ];
        assert_eq!(
            choose_metadata_name(names.into_iter(), "demo_pkg-1.0-py3-none-any.whl"),
            Some("Demo_Pkg-1.0.dist-info/METADATA")
        );
    }

    #[test]
    fn local_wheel_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-1.0-py3-none-any.whl");
        std::fs::write(
            &path,
            build_wheel("demo", "1.0", "Name: demo\nVersion: 1.0\n", 10),
        )
        .unwrap();
        let bytes = metadata_from_wheel_file(&path, "demo-1.0-py3-none-any.whl").unwrap();
        assert_eq!(bytes, b"Name: demo\nVersion: 1.0\n");
    }
}
