//! HEIC decoding on files libheif's own encoder makes at test time (`heif-enc`, from Debian's
//! `libheif-examples`) from rendered text, as they are and turned by an `irot` property: the size,
//! the orientation of the pixels, the limit, and damaged input.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use image::DynamicImage;
use intake_domain::model::ContentType;
use intake_domain::sniff::sniff;
use intake_domain::testkit::images::{DEJAVU_SANS_PATHS, render_text};
use intake_heic::testkit::{heif_enc, heif_enc_available, with_rotation};
use intake_heic::{HeicError, decode, dimensions};

/// A page of rendered text as HEIC, and its size; `None` (skipped) without `heif-enc` or the font
/// outside CI.
fn page() -> Option<(Vec<u8>, (u32, u32))> {
    let font = DEJAVU_SANS_PATHS.iter().find_map(|p| std::fs::read(p).ok());
    match font {
        Some(font) if heif_enc_available() => {
            let (png, size) = render_text(&["HEIC 2024 page"], &font).expect("renders");
            Some((heif_enc(&png, 90).expect("heif-enc encodes"), size))
        }
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "CI must install heif-enc and the fonts (scripts/system-deps.sh)"
            );
            eprintln!("SKIPPED: needs heif-enc (libheif-examples) and fonts-dejavu-core");
            None
        }
    }
}

/// The mean position of the dark pixels.
#[allow(clippy::cast_precision_loss)]
fn ink_centre(image: &DynamicImage) -> (f64, f64) {
    let grey = image.to_luma8();
    let (mut x, mut y, mut n) = (0.0, 0.0, 0.0);
    for (px, py, p) in grey.enumerate_pixels() {
        if p.0[0] < 100 {
            x += f64::from(px);
            y += f64::from(py);
            n += 1.0;
        }
    }
    assert!(n > 100.0, "the page has ink");
    (x / n, y / n)
}

#[test]
fn a_page_decodes_at_its_size_and_the_sniffer_agrees() {
    let Some((heic, (width, height))) = page() else {
        return;
    };
    let sniffed = sniff(&heic);
    assert_eq!(sniffed.content_type, Some(ContentType::Heic));
    assert_eq!(sniffed.dimensions, Some((width, height)));
    assert_eq!(dimensions(&heic).unwrap(), (width, height));
    let image = decode(&heic, 10_000_000).expect("decodes");
    assert!(matches!(image, DynamicImage::ImageRgb8(_)));
    assert_eq!((image.width(), image.height()), (width, height));
    // White paper, black ink where the text was drawn (from x = 40 on the first line).
    let grey = image.to_luma8();
    assert!(grey.get_pixel(5, 5).0[0] > 230);
    let (x, y) = ink_centre(&image);
    assert!(
        x > 40.0 && x < f64::from(width) / 2.0 && y > 30.0 && y < 90.0,
        "{x} {y}"
    );
}

#[test]
fn a_turned_page_comes_out_upright_as_shown() {
    let Some((heic, (width, height))) = page() else {
        return;
    };
    let upright = decode(&heic, 10_000_000).unwrap();
    let (x, y) = ink_centre(&upright);
    for turns in 1..4_u8 {
        let turned = with_rotation(&heic, turns).expect("heif-enc writes a pixi");
        let shown = if turns % 2 == 1 {
            (height, width)
        } else {
            (width, height)
        };
        assert_eq!(sniff(&turned).dimensions, Some(shown), "{turns}");
        assert_eq!(dimensions(&turned).unwrap(), shown, "{turns}");
        let image = decode(&turned, 10_000_000).unwrap();
        assert_eq!((image.width(), image.height()), shown, "{turns}");
        // `irot` turns anticlockwise: a quarter turn takes (x, y) to (y, width - 1 - x).
        let (w, h) = (f64::from(width - 1), f64::from(height - 1));
        let expected = match turns {
            1 => (y, w - x),
            2 => (w - x, h - y),
            _ => (h - y, x),
        };
        let (tx, ty) = ink_centre(&image);
        assert!(
            (tx - expected.0).abs() < 3.0 && (ty - expected.1).abs() < 3.0,
            "{turns}: ink at ({tx}, {ty}), expected {expected:?}"
        );
    }
}

#[test]
fn the_pixel_limit_holds_before_decoding_and_damage_is_an_error() {
    let Some((heic, (width, height))) = page() else {
        return;
    };
    let pixels = u64::from(width) * u64::from(height);
    match decode(&heic, pixels - 1) {
        Err(HeicError::TooLarge { pixels: p, limit }) => {
            assert_eq!((p, limit), (pixels, pixels - 1));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode(b"not a heic", 1_000),
        Err(HeicError::Invalid(_))
    ));
    assert!(matches!(dimensions(b""), Err(HeicError::Invalid(_))));
    for end in [16, 100, heic.len() / 2, heic.len() - 10] {
        assert!(
            matches!(decode(&heic[..end], 10_000_000), Err(HeicError::Invalid(_))),
            "cut at {end}"
        );
    }
}

/// The picture libheif's own decoder (`heif-convert`, beside `heif-enc` in libheif-examples) makes
/// of `heic`, as 8-bit RGB.
fn libheif_decodes(heic: &[u8]) -> image::RgbImage {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.heic"), dir.path().join("out.png"));
    std::fs::write(&input, heic).unwrap();
    let run = std::process::Command::new("heif-convert")
        .arg(&input)
        .arg(&output)
        .output()
        .expect("heif-convert runs (libheif-examples)");
    assert!(run.status.success(), "{run:?}");
    image::open(&output).unwrap().to_rgb8()
}

/// Peak signal-to-noise ratio of `b` against `a`, in dB (99 when identical).
#[allow(clippy::cast_precision_loss)]
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let mse = sum / a.len() as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// Intake's decoder (pure Rust) gives the picture the reference decoder gives, on files the
/// reference encoder wrote: a page of text (identical, as they are and turned) and a colour pattern
/// with hard colour edges, at two qualities. The brightness OCR reads agrees to within what no one
/// can see (45 dB); the colours differ only at hard colour edges, where the two upsample the
/// half-resolution chroma planes differently (33 dB on this pattern, the worst case for it).
#[test]
fn decodes_as_libheif_does() {
    let Some((page, _)) = page() else {
        return;
    };
    let gradient = image::RgbImage::from_fn(301, 157, |x, y| {
        #[allow(clippy::cast_possible_truncation)]
        image::Rgb([
            (x % 256) as u8,
            (y * 255 / 157) as u8,
            ((x + y) % 200) as u8,
        ])
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(gradient)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    for (name, heic) in [
        ("page", page.clone()),
        ("page, turned", with_rotation(&page, 1).unwrap()),
        ("gradient q90", heif_enc(&png, 90).unwrap()),
        ("gradient q50", heif_enc(&png, 50).unwrap()),
    ] {
        let ours = decode(&heic, 10_000_000).unwrap().to_rgb8();
        let reference = libheif_decodes(&heic);
        assert_eq!(ours.dimensions(), reference.dimensions(), "{name}");
        let grey = |rgb: image::RgbImage| DynamicImage::ImageRgb8(rgb).to_luma8().into_raw();
        let colour = psnr(reference.as_raw(), ours.as_raw());
        let luma = psnr(&grey(reference), &grey(ours));
        eprintln!("{name}: {colour:.1} dB RGB, {luma:.1} dB luma");
        assert!(luma > 45.0, "{name}: {luma:.1} dB");
        assert!(colour > 30.0, "{name}: {colour:.1} dB");
    }
}
