//! Pages larger than OCR needs, made smaller before Tesseract sees them.
//!
//! Tesseract keeps several copies of a page at once (the decoded image, its grey and binary
//! versions, scaled copies): about 4 bytes a pixel for a grey page and 11 for a colour one, so a blank
//! 9000 × 9000 RGB PNG of 0.2 MB peaks at 880 MB. Text is read best at a few dozen pixels a line,
//! which a page far smaller than that already has. A page beyond [`TesseractOptions::max_pixels`]
//! (default 40 MP, more than an A4 page scanned at 600 dpi) is therefore turned grey and scaled down
//! by area averaging until it fits, and a colour page beyond 40% of it is turned grey; Tesseract gets
//! an 8-bit PGM it reads without decoding. One image then costs Tesseract about 4.5 bytes ×
//! `max_pixels` at most (about 180 MB by default), whatever its size.
//!
//! A PNG that is not interlaced (the format of the cheapest decompression bombs) is reduced row by
//! row, holding one row of the page and one of the result; other formats are decoded whole first,
//! within the processor's pixel limit, one byte a pixel once grey.
//!
//! [`TesseractOptions::max_pixels`]: super::TesseractOptions::max_pixels

use std::io::Cursor;

use image::{DynamicImage, ImageReader, Limits};

/// Why a page could not be reduced: its pixels do not decode.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode the image to reduce it: {0}")]
pub(super) struct ReduceError(String);

/// The size a page of `width` × `height` is handed to Tesseract at, grey, when it must be reduced:
/// at most `max_pixels`, proportions kept. A colour page costs Tesseract about two and a half times
/// the memory of a grey one, so one beyond 40% of `max_pixels` is turned grey (at its own size when
/// it fits). `None` when the page goes as it is.
pub(super) fn reduced_size(
    (width, height): (u32, u32),
    colour: bool,
    max_pixels: u64,
) -> Option<(u32, u32)> {
    let pixels = u64::from(width) * u64::from(height);
    if colour && pixels > max_pixels / 5 * 2 {
        return Some(target_size(width, height, max_pixels).unwrap_or((width, height)));
    }
    target_size(width, height, max_pixels)
}

/// Whether the image's header declares colour (or a palette); unreadable headers answer `false`, and
/// Tesseract then says what is wrong with the image.
pub(super) fn is_colour(bytes: &[u8]) -> bool {
    use image::ImageDecoder as _;
    let Ok(reader) = ImageReader::new(Cursor::new(bytes)).with_guessed_format() else {
        return false;
    };
    reader.into_decoder().is_ok_and(|decoder| {
        !matches!(
            decoder.color_type(),
            image::ColorType::L8
                | image::ColorType::La8
                | image::ColorType::L16
                | image::ColorType::La16
        )
    })
}

/// The size a `width` × `height` page is scaled to so that it holds at most `max_pixels`, keeping
/// its proportions; `None` when it already fits.
#[allow(clippy::cast_precision_loss)] // pixel counts stay far below 2^52
fn target_size(width: u32, height: u32, max_pixels: u64) -> Option<(u32, u32)> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels || width == 0 || height == 0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let fit = |side: u32, scale: f64| ((f64::from(side) * scale).floor() as u32).clamp(1, side);
    let mut scale = (max_pixels.max(1) as f64 / pixels as f64).sqrt();
    loop {
        let (w, h) = (fit(width, scale), fit(height, scale));
        if u64::from(w) * u64::from(h) <= max_pixels || (w == 1 && h == 1) {
            return Some((w, h));
        }
        scale *= 0.999;
    }
}

/// `bytes` (a page of `width` × `height`) reduced to `target` as an 8-bit grey PGM, transparency laid
/// over white paper.
///
/// # Errors
/// [`ReduceError`] when the pixels do not decode.
pub(super) fn reduce(
    bytes: &[u8],
    (width, height): (u32, u32),
    target: (u32, u32),
) -> Result<Vec<u8>, ReduceError> {
    if let Some(pgm) = reduce_png_rows(bytes, (width, height), target)? {
        return Ok(pgm);
    }
    reduce_decoded(bytes, target)
}

/// A non-interlaced PNG, row by row; `None` for anything else.
fn reduce_png_rows(
    bytes: &[u8],
    (width, height): (u32, u32),
    target: (u32, u32),
) -> Result<Option<Vec<u8>>, ReduceError> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(None);
    }
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| ReduceError(e.to_string()))?;
    let info = reader.info();
    if info.interlaced || (info.width, info.height) != (width, height) {
        return Ok(None);
    }
    let channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale => Channels::Grey,
        png::ColorType::GrayscaleAlpha => Channels::GreyAlpha,
        png::ColorType::Rgb => Channels::Rgb,
        png::ColorType::Rgba => Channels::Rgba,
        // normalize_to_color8 expands palettes; anything else goes through the general decoder.
        png::ColorType::Indexed => return Ok(None),
    };
    let mut averager = AreaAverager::new((width, height), target);
    let mut grey = vec![0u8; width as usize];
    while let Some(row) = reader.next_row().map_err(|e| ReduceError(e.to_string()))? {
        channels.to_grey(row.data(), &mut grey);
        averager.push_row(&grey);
    }
    averager.finish().map(Some)
}

/// Any format the image crate reads: decoded whole, turned grey, then averaged down.
fn reduce_decoded(bytes: &[u8], target: (u32, u32)) -> Result<Vec<u8>, ReduceError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ReduceError(e.to_string()))?;
    let mut limits = Limits::default();
    // Decoded 16-bit RGBA of the largest page the processor lets through, and the decoder's buffers.
    limits.max_alloc = Some(8 * 100_000_000 + (64 << 20));
    reader.limits(limits);
    let image = reader.decode().map_err(|e| ReduceError(e.to_string()))?;
    averaged(image, target)
}

/// `image` turned grey (transparency over white) and averaged down to `target`, as a PGM.
fn averaged(image: DynamicImage, target: (u32, u32)) -> Result<Vec<u8>, ReduceError> {
    let (width, height) = (image.width(), image.height());
    let grey = grey_over_white(image);
    let mut averager = AreaAverager::new((width, height), target);
    for row in grey.chunks_exact(width as usize) {
        averager.push_row(row);
    }
    averager.finish()
}

/// A HEIC, which Tesseract (Leptonica) cannot read, as a file it reads without decoding: decoded
/// upright by `intake-heic` (within the largest page the processor lets through, 100 MP), then an
/// 8-bit RGB PPM as it is, or, like any other page beyond the limits (or with transparency, laid
/// over white), a grey PGM reduced to fit `max_pixels`.
///
/// # Errors
/// [`ReduceError`] when the pixels do not decode.
pub(super) fn heic(bytes: &[u8], max_pixels: u64) -> Result<Vec<u8>, ReduceError> {
    let image = intake_heic::decode(bytes, 100_000_000).map_err(|e| ReduceError(e.to_string()))?;
    let size = (image.width(), image.height());
    match reduced_size(size, true, max_pixels) {
        None if !image.color().has_alpha() => {
            let rgb = image.into_rgb8();
            let mut ppm = format!("P6\n{} {}\n255\n", size.0, size.1).into_bytes();
            ppm.extend_from_slice(rgb.as_raw());
            Ok(ppm)
        }
        target => averaged(image, target.unwrap_or(size)),
    }
}

/// One byte a pixel, transparency laid over white.
fn grey_over_white(image: DynamicImage) -> Vec<u8> {
    if image.color().has_alpha() {
        let grey_alpha = image.into_luma_alpha8();
        grey_alpha
            .pixels()
            .map(|p| over_white(p.0[0], p.0[1]))
            .collect()
    } else {
        image.into_luma8().into_raw()
    }
}

/// The layout of a decoded PNG row.
#[derive(Clone, Copy)]
enum Channels {
    Grey,
    GreyAlpha,
    Rgb,
    Rgba,
}

impl Channels {
    /// Fills `grey` (one byte a pixel) from `row`.
    fn to_grey(self, row: &[u8], grey: &mut [u8]) {
        match self {
            Self::Grey => grey.iter_mut().zip(row).for_each(|(g, &v)| *g = v),
            Self::GreyAlpha => grey
                .iter_mut()
                .zip(row.as_chunks::<2>().0)
                .for_each(|(g, &[v, a])| *g = over_white(v, a)),
            Self::Rgb => grey
                .iter_mut()
                .zip(row.as_chunks::<3>().0)
                .for_each(|(g, &[r, gr, b])| *g = luma(r, gr, b)),
            Self::Rgba => grey
                .iter_mut()
                .zip(row.as_chunks::<4>().0)
                .for_each(|(g, &[r, gr, b, a])| *g = over_white(luma(r, gr, b), a)),
        }
    }
}

/// Rec. 601 luma (green weighs most, blue least).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000;
    u8::try_from(y).unwrap_or(u8::MAX)
}

/// A value `v` with coverage `alpha` laid over white paper.
fn over_white(v: u8, alpha: u8) -> u8 {
    let a = u32::from(alpha);
    u8::try_from((u32::from(v) * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
}

/// Area averaging fed one source row at a time: every source pixel falls in exactly one target
/// pixel, which becomes the mean of its source pixels. Holds one row of sums.
struct AreaAverager {
    source_height: u32,
    target_height: u32,
    /// The target column of each source column.
    column: Vec<u32>,
    /// How many source columns each target column averages.
    columns_in: Vec<u64>,
    sums: Vec<u64>,
    rows_in: u64,
    /// The target row being summed.
    current: u32,
    source_row: u32,
    pgm: Vec<u8>,
}

impl AreaAverager {
    fn new((width, height): (u32, u32), (target_width, target_height): (u32, u32)) -> Self {
        let column: Vec<u32> = (0..width).map(|x| bin(x, width, target_width)).collect();
        let mut columns_in = vec![0u64; target_width as usize];
        for &c in &column {
            if let Some(n) = columns_in.get_mut(c as usize) {
                *n += 1;
            }
        }
        let header = format!("P5\n{target_width} {target_height}\n255\n");
        let mut pgm =
            Vec::with_capacity(header.len() + target_width as usize * target_height as usize);
        pgm.extend_from_slice(header.as_bytes());
        Self {
            source_height: height,
            target_height,
            column,
            columns_in,
            sums: vec![0; target_width as usize],
            rows_in: 0,
            current: 0,
            source_row: 0,
            pgm,
        }
    }

    fn push_row(&mut self, row: &[u8]) {
        if self.source_row >= self.source_height {
            return;
        }
        let target_row = bin(self.source_row, self.source_height, self.target_height);
        while self.current < target_row {
            self.emit();
        }
        for (&c, &v) in self.column.iter().zip(row) {
            if let Some(sum) = self.sums.get_mut(c as usize) {
                *sum += u64::from(v);
            }
        }
        self.rows_in += 1;
        self.source_row += 1;
    }

    /// Writes the current target row and starts the next.
    fn emit(&mut self) {
        let rows = self.rows_in.max(1);
        for (sum, &n) in self.sums.iter_mut().zip(&self.columns_in) {
            let count = (n * rows).max(1);
            self.pgm
                .push(u8::try_from((*sum + count / 2) / count).unwrap_or(u8::MAX));
            *sum = 0;
        }
        self.rows_in = 0;
        self.current += 1;
    }

    fn finish(mut self) -> Result<Vec<u8>, ReduceError> {
        if self.source_row != self.source_height {
            return Err(ReduceError(format!(
                "the image ended after {} of its {} rows",
                self.source_row, self.source_height
            )));
        }
        while self.current < self.target_height {
            self.emit();
        }
        Ok(self.pgm)
    }
}

/// The target index of source index `i` of `source`, spread evenly over `target`.
fn bin(i: u32, source: u32, target: u32) -> u32 {
    u32::try_from(u64::from(i) * u64::from(target) / u64::from(source.max(1)))
        .unwrap_or(u32::MAX)
        .min(target.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder as _, codecs::png::PngEncoder};

    fn encode(pixels: &[u8], (w, h): (u32, u32), color: image::ExtendedColorType) -> Vec<u8> {
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(pixels, w, h, color)
            .expect("encodes");
        out
    }

    /// The PGM's dimensions and pixels.
    fn parse_pgm(pgm: &[u8]) -> ((u32, u32), &[u8]) {
        let text = String::from_utf8_lossy(&pgm[..pgm.len().min(32)]);
        let mut fields = text.split_ascii_whitespace();
        assert_eq!(fields.next(), Some("P5"));
        let w: u32 = fields.next().and_then(|f| f.parse().ok()).expect("width");
        let h: u32 = fields.next().and_then(|f| f.parse().ok()).expect("height");
        let header = format!("P5\n{w} {h}\n255\n").len();
        ((w, h), &pgm[header..])
    }

    #[test]
    fn a_page_within_the_budget_is_left_alone() {
        assert_eq!(target_size(6000, 6000, 40_000_000), None);
        assert_eq!(target_size(0, 10, 1), None);
    }

    #[test]
    fn a_large_colour_page_is_turned_grey_at_its_own_size() {
        assert_eq!(reduced_size((4000, 3000), true, 40_000_000), None);
        assert_eq!(
            reduced_size((6000, 4000), true, 40_000_000),
            Some((6000, 4000))
        );
        assert_eq!(reduced_size((6000, 4000), false, 40_000_000), None);
        assert_eq!(
            reduced_size((9000, 9000), true, 40_000_000),
            Some((6324, 6324))
        );
    }

    #[test]
    fn colour_is_read_from_the_header() {
        let grey = encode(&[0u8; 4], (2, 2), image::ExtendedColorType::L8);
        let rgb = encode(&[0u8; 12], (2, 2), image::ExtendedColorType::Rgb8);
        assert!(!is_colour(&grey));
        assert!(is_colour(&rgb));
        assert!(!is_colour(b"not an image"));
    }

    #[test]
    fn a_page_beyond_the_budget_keeps_its_proportions_and_fits() {
        for (w, h, max) in [
            (9000, 9000, 40_000_000),
            (32_767, 3, 1000),
            (4000, 3000, 1),
            (7, 100_000, 50),
        ] {
            let (tw, th) = target_size(w, h, max).expect("reduced");
            assert!(
                u64::from(tw) * u64::from(th) <= max.max(1),
                "{w}x{h} -> {tw}x{th}"
            );
            assert!(tw <= w && th <= h && tw >= 1 && th >= 1);
        }
        assert_eq!(target_size(9000, 9000, 40_000_000), Some((6324, 6324)));
    }

    #[test]
    fn a_colour_png_is_averaged_down_row_by_row() {
        // Left half black, right half white, in RGB: 100 × 40 → 50 × 20.
        let (w, h) = (100u32, 40u32);
        let rgb: Vec<u8> = (0..h)
            .flat_map(|_| (0..w).flat_map(|x| if x < 50 { [0u8; 3] } else { [255u8; 3] }))
            .collect();
        let png = encode(&rgb, (w, h), image::ExtendedColorType::Rgb8);
        let pgm = reduce(&png, (w, h), (50, 20)).expect("reduces");
        let ((tw, th), pixels) = parse_pgm(&pgm);
        assert_eq!((tw, th), (50, 20));
        assert_eq!(pixels.len(), 50 * 20);
        for row in pixels.chunks_exact(50) {
            assert!(row[..25].iter().all(|&p| p == 0), "{row:?}");
            assert!(row[25..].iter().all(|&p| p == 255), "{row:?}");
        }
    }

    #[test]
    fn averaging_takes_the_mean_of_each_block() {
        // A 4 × 2 grey checkerboard of 0 and 200 averages to 100 in a 1 × 1 page.
        let grey = [0u8, 200, 0, 200, 200, 0, 200, 0];
        let png = encode(&grey, (4, 2), image::ExtendedColorType::L8);
        let ((tw, th), pixels) = {
            let pgm = reduce(&png, (4, 2), (1, 1)).expect("reduces");
            let (size, px) = parse_pgm(&pgm);
            (size, px.to_vec())
        };
        assert_eq!((tw, th), (1, 1));
        assert_eq!(pixels, vec![100]);
    }

    #[test]
    fn transparency_is_laid_over_white() {
        // Fully transparent black is paper; opaque black stays ink.
        let rgba = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 255];
        let png = encode(&rgba, (2, 2), image::ExtendedColorType::Rgba8);
        let pgm = reduce(&png, (2, 2), (1, 2)).expect("reduces");
        assert_eq!(parse_pgm(&pgm).1, &[255, 0]);
    }

    #[test]
    fn other_formats_are_decoded_whole_then_reduced() {
        let (w, h) = (64u32, 32u32);
        let grey: Vec<u8> = (0..w * h)
            .map(|i| if i % w < 32 { 0 } else { 255 })
            .collect();
        let mut bmp = Vec::new();
        image::codecs::bmp::BmpEncoder::new(&mut bmp)
            .write_image(&grey, w, h, image::ExtendedColorType::L8)
            .expect("encodes");
        let pgm = reduce(&bmp, (w, h), (8, 4)).expect("reduces");
        let ((tw, th), pixels) = parse_pgm(&pgm);
        assert_eq!((tw, th), (8, 4));
        assert!(
            pixels
                .chunks_exact(8)
                .all(|r| r[..4] == [0; 4] && r[4..] == [255; 4])
        );
    }

    #[test]
    fn a_truncated_png_is_an_error_not_a_short_page() {
        let grey = vec![128u8; 200 * 200];
        let png = encode(&grey, (200, 200), image::ExtendedColorType::L8);
        let cut = &png[..png.len() / 2];
        assert!(reduce(cut, (200, 200), (20, 20)).is_err());
    }
}
