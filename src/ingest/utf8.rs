//! Input lines as text: UTF-8 checked, with ASCII (nearly every PACT document) seen to be so
//! 128 bytes a step.
//!
//! `std::str::from_utf8` reads ASCII two words a step: 2 % of an ingest's CPU at a million
//! footprints. A line with any byte of 0x80 or more is still checked by `std`, which also
//! says where it stops being UTF-8.

/// `bytes` as text, or where it is not UTF-8.
pub(super) fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if is_ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

/// Whether every byte of `b` is below 0x80.
fn is_ascii(b: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        let (ascii, at) = unsafe { ascii_avx2(b) };
        return ascii && b[at..].is_ascii();
    }
    b.is_ascii()
}

/// Whether the bytes of `b` read 128 at a time are ASCII, and where the unread rest starts
/// (fewer than 128 bytes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn ascii_avx2(b: &[u8]) -> (bool, usize) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256};
    let mut at = 0;
    while let Some(group) = b.get(at..at + 128) {
        let p = group.as_ptr().cast::<__m256i>();
        // SAFETY: `group` is 128 readable bytes, four loads of 32; they take any alignment.
        let v = unsafe {
            _mm256_or_si256(
                _mm256_or_si256(_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1))),
                _mm256_or_si256(_mm256_loadu_si256(p.add(2)), _mm256_loadu_si256(p.add(3))),
            )
        };
        // The high bit of every byte, of the four loads together.
        if _mm256_movemask_epi8(v) != 0 {
            return (false, at);
        }
        at += 128;
    }
    (true, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte that is not ASCII at every place of lines up to 300 bytes (two steps of 128
    /// and a tail), alone and as part of a character, gives what `std` gives.
    #[test]
    fn agrees_with_std_at_every_place() {
        for len in 0..300 {
            let ascii = vec![b'a'; len];
            assert_eq!(utf8(&ascii), std::str::from_utf8(&ascii), "{len}");
            for at in 0..len {
                let mut lone = ascii.clone();
                lone[at] = 0xff;
                let e = utf8(&lone).unwrap_err();
                assert_eq!(e.valid_up_to(), at, "{len} {at}");
                if at + 3 <= len {
                    // 「見」 is three bytes: still text.
                    let mut kanji = ascii.clone();
                    kanji[at..at + 3].copy_from_slice("見".as_bytes());
                    assert_eq!(utf8(&kanji).unwrap(), std::str::from_utf8(&kanji).unwrap());
                }
            }
        }
    }
}
