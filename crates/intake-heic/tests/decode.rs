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
