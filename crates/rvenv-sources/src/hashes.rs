//! The user's `--hash` values, checked against what was downloaded.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The archive `filename` with this `sha256` must match one of the `allowed` hashes (pip's
/// hash-checking mode). Only sha256 can be checked: the digest is computed while downloading.
pub fn check_hashes(
    filename: &str,
    allowed: &[rvenv_requirements::Hash],
    sha256: &str,
) -> Result<()> {
    let sha256_allowed: Vec<&str> = allowed
        .iter()
        .filter(|hash| hash.algorithm == "sha256")
        .map(|hash| hash.digest.as_str())
        .collect();
    if sha256_allowed.is_empty() {
        return Err(Error::UnsupportedHash {
            file: filename.to_string(),
            given: allowed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if sha256_allowed
        .iter()
        .any(|digest| digest.eq_ignore_ascii_case(sha256))
    {
        return Ok(());
    }
    Err(Error::HashMismatch {
        file: filename.to_string(),
        expected: sha256_allowed
            .iter()
            .map(|digest| format!("sha256:{digest}"))
            .collect::<Vec<_>>()
            .join(" or "),
        actual: sha256.to_string(),
    })
}

/// The lower-case hex sha256 of a file, read in chunks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> rvenv_requirements::Hash {
        let (algorithm, digest) = text.split_once(':').unwrap();
        rvenv_requirements::Hash {
            algorithm: algorithm.to_string(),
            digest: digest.to_string(),
        }
    }

    #[test]
    fn a_matching_sha256_passes_and_others_say_what_was_expected() {
        let allowed = [hash("sha256:aa"), hash("sha256:bb")];
        assert!(check_hashes("x.whl", &allowed, "BB").is_ok());
        let err = check_hashes("x.whl", &allowed, "cc")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected: sha256:aa or sha256:bb"), "{err}");
        assert!(err.contains("actual:   sha256:cc"), "{err}");
        let err = check_hashes("x.whl", &[hash("sha512:aa")], "cc").unwrap_err();
        assert!(err.to_string().contains("only sha256"), "{err}");
    }

    #[test]
    fn file_digests_match_the_known_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs_err::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
