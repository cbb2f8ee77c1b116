//! HEIC files for tests, made at test time with libheif's own encoder (`heif-enc`, Debian's
//! `libheif-examples`, which `scripts/system-deps.sh` installs) from a PNG the test renders, so no
//! picture of unknown origin is committed; and the same files turned by an `irot` property, which
//! `heif-enc` cannot write.

use std::process::Command;

/// Whether `heif-enc` runs here.
pub fn heif_enc_available() -> bool {
    Command::new("heif-enc")
        .arg("--help")
        .output()
        .is_ok_and(|out| !out.stdout.is_empty() || !out.stderr.is_empty())
}

/// `png` encoded as HEIC (HEVC, 4:2:0) by `heif-enc` at `quality` (0..=100).
///
/// # Errors
/// What went wrong, when `heif-enc` is missing or fails.
pub fn heif_enc(png: &[u8], quality: u8) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (input, output) = (dir.path().join("in.png"), dir.path().join("out.heic"));
    std::fs::write(&input, png).map_err(|e| e.to_string())?;
    let run = Command::new("heif-enc")
        .arg("-q")
        .arg(quality.min(100).to_string())
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .map_err(|e| format!("cannot run heif-enc ({e}): apt-get install libheif-examples"))?;
    if !run.status.success() {
        return Err(format!(
            "heif-enc failed: {}",
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    std::fs::read(&output).map_err(|e| e.to_string())
}

/// `heic` (as `heif-enc` 1.15 writes it) with its primary image turned `quarter_turns` × 90°
/// anticlockwise by an `irot` property, so that viewers (and decoders) show it turned.
///
/// `heif-enc` gives the primary image a `pixi` property (bits per channel: 14 bytes for grey, 16
/// for colour), which decoding does not need: it is replaced by a 9-byte `irot` box and a `free`
/// box after it. The property keeps its index, so the primary image's association (marked
/// essential, as a transformation must be) now names the rotation. libheif refuses a property box
/// longer than what it reads, so the two boxes take four bytes more than `pixi` did; the `ftyp`
/// box gives them up (its last compatible brand, `miaf`, which nothing here needs), so that the
/// coded pixels stay where the file's `iloc` says they are. `meta`, `iprp` and `ipco` grow by
/// those four bytes. `None` when the file is not laid out that way.
pub fn with_rotation(heic: &[u8], quarter_turns: u8) -> Option<Vec<u8>> {
    let size_at =
        |bytes: &[u8], at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let find =
        |bytes: &[u8], kind: &[u8; 4]| bytes.windows(4).position(|w| w == kind)?.checked_sub(4);
    let ftyp = usize::try_from(size_at(heic, 0)?).ok()?;
    if heic.get(4..8)? != b"ftyp" || heic.get(ftyp - 4..ftyp)? != b"miaf" {
        return None;
    }
    let mut out = heic.get(..ftyp - 4)?.to_vec();
    out.get_mut(0..4)?
        .copy_from_slice(&u32::try_from(ftyp - 4).ok()?.to_be_bytes());
    out.extend_from_slice(heic.get(ftyp..)?);
    for kind in [b"meta", b"iprp", b"ipco"] {
        let at = find(&out, kind)?;
        let grown = size_at(&out, at)?.checked_add(4)?;
        out.get_mut(at..at + 4)?
            .copy_from_slice(&grown.to_be_bytes());
    }
    let at = find(&out, b"pixi")?;
    let pixi = usize::try_from(size_at(&out, at)?).ok()?;
    let mut boxes = vec![0, 0, 0, 9, b'i', b'r', b'o', b't', quarter_turns % 4];
    let free = u32::try_from(pixi + 4 - 9).ok()?;
    boxes.extend_from_slice(&free.to_be_bytes());
    boxes.extend_from_slice(b"free");
    boxes.resize(pixi + 4, 0);
    out.splice(at..at + pixi, boxes);
    Some(out)
}
