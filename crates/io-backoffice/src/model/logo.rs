//! A service's logo: a square PNG image.

use super::FieldError;

pub const LOGO_MAX_BYTES: usize = 512 * 1024;
pub const LOGO_MIN_SIDE: u32 = 300;
pub const LOGO_MAX_SIDE: u32 = 1024;

/// Checks a logo given as base64: a PNG image, square, 300 to 1024 pixels a side, at most
/// 512 KiB. Returns the image bytes.
pub fn check_logo(base64_png: &str) -> Result<Vec<u8>, FieldError> {
    use base64::Engine;
    let compact: String = base64_png.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(FieldError::new("logo", "must not be empty"));
    }
    if compact.len() > LOGO_MAX_BYTES * 4 / 3 + 4 {
        return Err(FieldError::new("logo", "must be at most 512 KiB"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| FieldError::new("logo", "is not valid base64"))?;
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(FieldError::new("logo", "must be at most 512 KiB"));
    }
    let (w, h) = png_size(&bytes).ok_or_else(|| FieldError::new("logo", "is not a PNG image"))?;
    if w != h {
        return Err(FieldError::new(
            "logo",
            format!("must be square (it is {w}×{h} pixels)"),
        ));
    }
    if !(LOGO_MIN_SIDE..=LOGO_MAX_SIDE).contains(&w) {
        return Err(FieldError::new(
            "logo",
            format!("must be {LOGO_MIN_SIDE} to {LOGO_MAX_SIDE} pixels a side (it is {w})"),
        ));
    }
    Ok(bytes)
}

/// Width and height from a PNG's signature and IHDR chunk.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || !bytes.starts_with(SIGNATURE) || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (w > 0 && h > 0).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_must_be_square_pngs_of_the_right_size() {
        use base64::Engine;
        let png = |w: u32, h: u32| {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            b.extend_from_slice(&w.to_be_bytes());
            b.extend_from_slice(&h.to_be_bytes());
            b.extend_from_slice(&[8, 6, 0, 0, 0]);
            base64::engine::general_purpose::STANDARD.encode(b)
        };
        assert!(check_logo(&png(300, 300)).is_ok());
        assert!(
            check_logo(&png(300, 301))
                .unwrap_err()
                .message
                .contains("square")
        );
        assert!(
            check_logo(&png(100, 100))
                .unwrap_err()
                .message
                .contains("300")
        );
        assert!(
            check_logo("not base64!")
                .unwrap_err()
                .message
                .contains("base64")
        );
        assert!(check_logo("aGVsbG8=").unwrap_err().message.contains("PNG"));
        assert!(check_logo("").is_err());
    }
}
