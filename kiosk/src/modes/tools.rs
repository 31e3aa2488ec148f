//! Technician commands that are not modes: `kiosk check-config` and `kiosk decode-policy`.
//! Small, scriptable, output to any `Write` so tests can read it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use domain::Sex;
use drivers::card::framing::{NotAPolicy, Scan, classify};

/// Decodes raw scanner bytes as an OMS barcode, as `kiosk decode-policy` prints it. The error is
/// one line saying why the bytes are not a policy.
pub fn decode_policy(bytes: &[u8]) -> Result<Value, String> {
    let b = match classify(bytes) {
        Scan::Barcode(b) => b,
        Scan::Number { .. } => return Err("a policy number as text, not an OMS policy barcode".into()),
        Scan::BadNumber => return Err("a 16-digit number with a wrong check digit".into()),
        Scan::NotAPolicy { why } => {
            return Err(match why {
                NotAPolicy::BrokenBarcode(e) => format!("broken OMS barcode: {e}"),
                NotAPolicy::Binary { len } => {
                    format!(
                        "{len} bytes of binary data, not an OMS policy barcode (130 bytes, type 01 or 02)"
                    )
                }
                NotAPolicy::Text { chars } => {
                    format!("text of {chars} characters, not an OMS policy barcode")
                }
                NotAPolicy::Empty => "empty input".into(),
            });
        }
    };
    let p = &b.policy;
    Ok(json!({
        "type": b.kind.number(),
        "enp": p.enp.expose(),
        "enp_checksum_ok": p.enp.checksum_ok(),
        "last_name": p.name.last.expose(),
        "first_name": p.name.first.expose(),
        "middle_name": p.name.middle.as_ref().map(|m| m.expose()),
        "sex": p.sex.map(|s| match s { Sex::Male => "male", Sex::Female => "female" }),
        "birth_date": p.birth_date.map(|d| d.expose().to_string()),
        "expiry_date": p.expiry.map(|d| d.to_string()),
        "ogrn": b.ogrn,
        "okato": b.okato,
    }))
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("not a policy: {0}")]
    NotAPolicy(String),
    #[error("output: {0}")]
    Output(#[from] std::io::Error),
}

impl super::Failure for ToolError {
    fn exit_code(&self) -> u8 {
        match self {
            ToolError::Output(_) => 1,
            _ => 2,
        }
    }
}

/// `kiosk check-config`: validates the file and prints what it means (secrets redacted).
pub fn check_config(path: &Path, out: &mut dyn Write) -> Result<(), ToolError> {
    let cfg = crate::config::load(path)?;
    writeln!(out, "{}: valid\n{cfg:#?}", path.display())?;
    Ok(())
}

/// `kiosk decode-policy FILE | --hex HEX`: the scan as JSON.
pub fn decode_policy_cmd(
    file: Option<PathBuf>,
    hex: Option<String>,
    out: &mut dyn Write,
) -> Result<(), ToolError> {
    let bytes = match (file, hex) {
        (Some(f), None) => {
            std::fs::read(&f).map_err(|e| ToolError::Usage(format!("{}: {e}", f.display())))?
        }
        (None, Some(h)) => drivers::hex::parse(&h).map_err(ToolError::Usage)?,
        _ => return Err(ToolError::Usage("give a FILE or --hex HEX".into())),
    };
    let json = decode_policy(&bytes).map_err(ToolError::NotAPolicy)?;
    writeln!(out, "{}", serde_json::to_string_pretty(&json).expect("JSON values serialise"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_policies_say_why_in_one_line() {
        for input in [&b""[..], b"hello", b"7700000000000015", &[0xFF; 40], &[2; 130][..]] {
            let e = decode_policy(input).unwrap_err();
            assert!(!e.contains('\n') && !e.is_empty(), "{e}");
        }
    }
}
