//! Turning the bytes of a requirements file into text.
//!
//! pip reads UTF-8 by default and honours a byte-order mark for UTF-8, UTF-16 and UTF-32.
//! Files written by PowerShell's `>` redirection are UTF-16 LE with a BOM, so those matter.

/// Why the bytes of a file are not text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    /// What is wrong, including where (line and byte offset).
    pub(crate) message: String,
}

/// Decode `bytes` by their byte-order mark, or as UTF-8 when there is none.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    // UTF-32 must be tested before UTF-16: the UTF-32 LE mark starts with the UTF-16 LE one.
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE, 0x00, 0x00]) {
        return decode_utf32(rest, u32::from_le_bytes, "UTF-32 LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0x00, 0x00, 0xFE, 0xFF]) {
        return decode_utf32(rest, u32::from_be_bytes, "UTF-32 BE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode_utf8(rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return decode_utf16(rest, u16::from_le_bytes, "UTF-16 LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return decode_utf16(rest, u16::from_be_bytes, "UTF-16 BE");
    }
    decode_utf8(bytes)
}

fn decode_utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(err) => {
            let offset = err.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(DecodeError {
                message: format!(
                    "the file is not valid UTF-8 (line {line}, byte {offset}: 0x{:02X})",
                    bytes[offset]
                ),
            })
        }
    }
}

fn decode_utf16(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
    encoding: &str,
) -> Result<String, DecodeError> {
    if !bytes.chunks_exact(2).remainder().is_empty() {
        return Err(DecodeError {
            message: format!(
                "the file starts with a {encoding} byte-order mark but has an odd number of bytes"
            ),
        });
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    for (index, decoded) in char::decode_utf16(units).enumerate() {
        match decoded {
            Ok(c) => text.push(c),
            Err(err) => {
                return Err(DecodeError {
                    message: format!(
                        "the file is not valid {encoding}: unpaired surrogate 0x{:04X} at byte {}",
                        err.unpaired_surrogate(),
                        2 + index * 2
                    ),
                })
            }
        }
    }
    Ok(text)
}

fn decode_utf32(
    bytes: &[u8],
    unit: fn([u8; 4]) -> u32,
    encoding: &str,
) -> Result<String, DecodeError> {
    if !bytes.chunks_exact(4).remainder().is_empty() {
        return Err(DecodeError {
            message: format!("the file starts with a {encoding} byte-order mark but its length is not a multiple of 4"),
        });
    }
    let mut text = String::with_capacity(bytes.len() / 4);
    for (index, quad) in bytes.chunks_exact(4).enumerate() {
        let value = unit([quad[0], quad[1], quad[2], quad[3]]);
        match char::from_u32(value) {
            Some(c) => text.push(c),
            None => {
                return Err(DecodeError {
                    message: format!(
                    "the file is not valid {encoding}: 0x{value:08X} at byte {} is not a character",
                    4 + index * 4
                ),
                })
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        bytes
    }

    #[test]
    fn plain_utf8_and_bom() {
        assert_eq!(decode(b"flask\n").unwrap(), "flask\n");
        assert_eq!(decode(b"\xEF\xBB\xBFflask\n").unwrap(), "flask\n");
    }

    #[test]
    fn utf16_both_orders() {
        assert_eq!(
            decode(&utf16("fl\u{e4}sk\r\n", false)).unwrap(),
            "fl\u{e4}sk\r\n"
        );
        assert_eq!(decode(&utf16("flask\n", true)).unwrap(), "flask\n");
    }

    #[test]
    fn utf32_little_endian() {
        let mut bytes = vec![0xFF, 0xFE, 0x00, 0x00];
        for c in "ab".chars() {
            bytes.extend_from_slice(&(c as u32).to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap(), "ab");
    }

    #[test]
    fn invalid_utf8_names_line_and_byte() {
        let err = decode(b"flask\nd\xFFjango\n").unwrap_err();
        assert_eq!(
            err.message,
            "the file is not valid UTF-8 (line 2, byte 7: 0xFF)"
        );
    }

    #[test]
    fn odd_utf16_and_lone_surrogate() {
        assert!(decode(&[0xFF, 0xFE, b'a'])
            .unwrap_err()
            .message
            .contains("odd number"));
        let err = decode(&[0xFF, 0xFE, 0x00, 0xD8, b'a', 0]).unwrap_err();
        assert_eq!(
            err.message,
            "the file is not valid UTF-16 LE: unpaired surrogate 0xD800 at byte 2"
        );
    }
}
