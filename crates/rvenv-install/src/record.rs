//! RECORD files (PEP 376 / the binary distribution format): a CSV of `path,hash,size` rows.
//!
//! > The RECORD file holds the list of installed files. It is a CSV file containing one record
//! > (line) per installed file. [...] The hash is either an empty string or the name of a hash
//! > algorithm from `hashlib.algorithms_guaranteed`, followed by the equals character `=` and the
//! > digest of the file's contents, encoded with the urlsafe-base64-nopad encoding.

use std::io::Read;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// One row of a RECORD file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordEntry {
    /// `/`-separated, relative to the directory holding the `.dist-info` (may start with `../`).
    pub path: String,
    /// `algorithm=urlsafe-b64-digest`, or empty (only RECORD itself and its signatures).
    pub hash: String,
    /// Size in bytes, when recorded.
    pub size: Option<u64>,
}

impl RecordEntry {
    /// An entry for content with the given sha256 digest and size.
    pub fn new(path: String, sha256: &[u8; 32], size: u64) -> Self {
        RecordEntry {
            path,
            hash: format!("sha256={}", URL_SAFE_NO_PAD.encode(sha256)),
            size: Some(size),
        }
    }
}

/// Parses a RECORD file's text. Blank lines are skipped; errors name the 1-based line.
pub fn parse_record(text: &str) -> Result<Vec<RecordEntry>, String> {
    let mut entries = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if !line.contains('"') {
            // Nothing quoted (nearly every row): every comma separates fields.
            let mut fields = line.split(',');
            if let (Some(path), Some(hash), Some(size), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            {
                entries.push(RecordEntry {
                    path: path.to_string(),
                    hash: hash.to_string(),
                    size: parse_size(size, number)?,
                });
                continue;
            }
        }
        let fields = split_csv_line(line).map_err(|e| format!("line {}: {e}", number + 1))?;
        let [path, hash, size] = <[String; 3]>::try_from(fields).map_err(|fields| {
            format!(
                "line {}: expected 3 fields (path,hash,size), found {}",
                number + 1,
                fields.len()
            )
        })?;
        let size = parse_size(&size, number)?;
        entries.push(RecordEntry { path, hash, size });
    }
    Ok(entries)
}

/// The size field of the RECORD row at 0-based `line`: empty, or a number.
fn parse_size(size: &str, line: usize) -> Result<Option<u64>, String> {
    if size.is_empty() {
        return Ok(None);
    }
    size.parse::<u64>()
        .map(Some)
        .map_err(|_| format!("line {}: size `{size}` is not a number", line + 1))
}

/// Renders rows the way pip does: sorted, CSV-quoted where needed, `\r\n` line endings
/// (Python's `csv.writer` default), with the RECORD file itself listed without hash and size.
pub fn render_record(entries: &mut [RecordEntry]) -> String {
    entries.sort();
    render_sorted(entries.iter())
}

/// Renders rows in the order given (sorted by the caller).
pub(crate) fn render_sorted<'a>(entries: impl Iterator<Item = &'a RecordEntry>) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for entry in entries {
        push_csv(&mut out, &entry.path);
        out.push(',');
        push_csv(&mut out, &entry.hash);
        out.push(',');
        if let Some(size) = entry.size {
            let _ = write!(out, "{size}");
        }
        out.push_str("\r\n");
    }
    out
}

fn push_csv(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

fn split_csv_line(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '"') if field.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field");
    }
    fields.push(field);
    Ok(fields)
}

/// A digest in RECORD's encoding for `algorithm` over the file at `path`, with the file's size.
/// `None` when the algorithm is not one we accept (sha256, sha384, sha512).
pub(crate) fn hash_file(path: &Path, algorithm: &str) -> std::io::Result<Option<(String, u64)>> {
    let mut file = fs_err::File::open(path)?;
    match algorithm {
        "sha256" => hash_reader::<Sha256>(&mut file).map(Some),
        "sha384" => hash_reader::<Sha384>(&mut file).map(Some),
        "sha512" => hash_reader::<Sha512>(&mut file).map(Some),
        _ => Ok(None),
    }
}

/// The raw sha256 digest and size of the file at `path`.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<([u8; 32], u64)> {
    let mut file = fs_err::File::open(path)?;
    let (digest, size) = digest_reader::<Sha256>(&mut file)?;
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(&digest);
    Ok((sha256, size))
}

fn hash_reader<D: Digest>(reader: &mut impl Read) -> std::io::Result<(String, u64)> {
    let (digest, size) = digest_reader::<D>(reader)?;
    Ok((URL_SAFE_NO_PAD.encode(digest), size))
}

fn digest_reader<D: Digest>(reader: &mut impl Read) -> std::io::Result<(Vec<u8>, u64)> {
    let mut hasher = D::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((hasher.finalize().to_vec(), size))
}

/// The sha256 RECORD entry of in-memory content.
pub(crate) fn entry_for_bytes(path: String, content: &[u8]) -> RecordEntry {
    let digest: [u8; 32] = Sha256::digest(content).into();
    RecordEntry::new(path, &digest, content.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_paths_and_empty_fields() {
        let text = "a/b.py,sha256=abc,12\r\n\"odd,name \"\"x\"\".py\",sha256=def,3\nx.dist-info/RECORD,,\n";
        let entries = parse_record(text).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].size, Some(12));
        assert_eq!(entries[1].path, "odd,name \"x\".py");
        assert_eq!(entries[2].hash, "");
        assert_eq!(entries[2].size, None);
    }

    #[test]
    fn rejects_bad_rows() {
        assert!(parse_record("a,b\n").unwrap_err().contains("line 1"));
        assert!(parse_record("ok,,\na,sha256=x,big\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse_record("\"open,,\n").is_err());
    }

    #[test]
    fn renders_sorted_round_trip() {
        let mut entries = vec![
            entry_for_bytes("z.py".into(), b"z"),
            RecordEntry {
                path: "a,b.py".into(),
                hash: String::new(),
                size: None,
            },
            entry_for_bytes("../../../bin/tool".into(), b""),
        ];
        let text = render_record(&mut entries);
        assert!(text.starts_with(
            "../../../bin/tool,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\n"
        ));
        assert!(text.contains("\"a,b.py\",,\r\n"));
        assert_eq!(parse_record(&text).unwrap(), entries);
    }
}
