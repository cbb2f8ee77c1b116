use super::*;
use crate::model::ContentType;
use crate::sniff::{Sniffed, Sniffer, sniff};

/// A real HEIC: a 64 × 48 colour gradient (drawn by a few lines of Python into a PNG, nobody's
/// picture) encoded by Debian's `heif-enc` 1.15.1 (`heif-enc -q 50 gradient.png -o
/// gradient-64x48.heic`). libheif writes it as a grid item (the primary, `ispe` 64 × 48) of one
/// 64 × 64 HEVC tile (its own `ispe`), with a `pixi` property on the grid.
const GRADIENT: &[u8] = include_bytes!("testdata/gradient-64x48.heic");

fn bx(kind: [u8; 4], content: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(content.len() + 8)
        .unwrap_or(u32::MAX)
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(&kind);
    out.extend_from_slice(content);
    out
}

fn full(kind: [u8; 4], version: u8, flags: u8, content: &[u8]) -> Vec<u8> {
    let mut body = vec![version, 0, 0, flags];
    body.extend_from_slice(content);
    bx(kind, &body)
}

fn ftyp(major: [u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let mut body = major.to_vec();
    body.extend_from_slice(&[0; 4]);
    for brand in compatible {
        body.extend_from_slice(*brand);
    }
    bx(*b"ftyp", &body)
}

fn ispe(width: u32, height: u32) -> Vec<u8> {
    let mut body = width.to_be_bytes().to_vec();
    body.extend_from_slice(&height.to_be_bytes());
    full(*b"ispe", 0, 0, &body)
}

/// A `meta` box: a picture handler, `primary` as the primary item, the `properties` in `ipco`, and
/// one `ipma` (version 0, 7-bit indices) associating each `(item, indices)`.
fn meta(primary: u16, properties: &[Vec<u8>], items: &[(u16, &[u8])]) -> Vec<u8> {
    let hdlr = full(*b"hdlr", 0, 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let pitm = full(*b"pitm", 0, 0, &primary.to_be_bytes());
    let mut ipma = u32::try_from(items.len())
        .unwrap_or(0)
        .to_be_bytes()
        .to_vec();
    for (item, indices) in items {
        ipma.extend_from_slice(&item.to_be_bytes());
        ipma.push(u8::try_from(indices.len()).unwrap_or(0));
        ipma.extend_from_slice(indices);
    }
    let iprp = bx(
        *b"iprp",
        &[
            bx(*b"ipco", &properties.concat()),
            full(*b"ipma", 0, 0, &ipma),
        ]
        .concat(),
    );
    full(*b"meta", 0, 0, &[hdlr, pitm, iprp].concat())
}

/// A HEIC whose primary item 2 is `width` × `height` with `transforms` after its `ispe`; item 1 (a
/// tile) is 512 × 512. The `mdat` comes after `meta`.
fn heic(width: u32, height: u32, transforms: &[Vec<u8>]) -> Vec<u8> {
    let mut properties = vec![ispe(512, 512), ispe(width, height)];
    properties.extend_from_slice(transforms);
    let indices: Vec<u8> = (2..=u8::try_from(properties.len()).unwrap_or(2))
        .map(|i| if i > 2 { 0x80 | i } else { i })
        .collect();
    [
        ftyp(*b"heic", &[b"mif1", b"heic"]),
        meta(2, &properties, &[(1, &[1]), (2, &indices)]),
        bx(*b"mdat", &[0xAB; 300]),
    ]
    .concat()
}

fn size_of(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut walker = PrimaryImage::default();
    walker.feed(bytes);
    walker.dimensions()
}

#[test]
fn the_brands_say_what_is_a_heic() {
    for (file, expected) in [
        (ftyp(*b"heic", &[b"mif1", b"heic", b"miaf"]), true),
        (ftyp(*b"mif1", &[b"heic"]), true),
        (ftyp(*b"heix", &[]), true),
        (ftyp(*b"msf1", &[b"hevc"]), true),
        (ftyp(*b"heim", &[]), true),
        (ftyp(*b"mif1", &[b"miaf"]), true),
        (ftyp(*b"avif", &[b"mif1", b"miaf"]), false),
        (ftyp(*b"mif1", &[b"avif"]), false),
        (ftyp(*b"isom", &[b"iso2", b"avc1", b"mp41"]), false),
        (ftyp(*b"qt  ", &[]), false),
    ] {
        assert_eq!(
            is_heic(&file),
            expected,
            "{:?}",
            String::from_utf8_lossy(&file)
        );
    }
    assert!(!is_heic(b""));
    assert!(!is_heic(b"\0\0\0\x18ftyp"));
    assert!(!is_heic(b"\0\0\0\x18moovheic\0\0\0\0"));
    // A compatible brand beyond the box's own size does not count.
    let mut short = ftyp(*b"isom", &[]);
    short.extend_from_slice(b"heic");
    assert!(!is_heic(&short));
    assert!(is_heic(GRADIENT));
    assert_eq!(sniff(GRADIENT).content_type, Some(ContentType::Heic));
    assert_eq!(
        sniff(&ftyp(*b"avif", &[b"mif1"])).content_type,
        None,
        "AVIF is not a type Intake takes"
    );
}

#[test]
fn heif_enc_output_has_its_primary_image_size() {
    let expected = Sniffed {
        content_type: Some(ContentType::Heic),
        dimensions: Some((64, 48)),
    };
    assert_eq!(sniff(GRADIENT), expected);
    // The same file turned a quarter by an `irot` written over its `pixi` (same size, same index):
    // shown 48 × 64.
    let at = GRADIENT
        .windows(4)
        .position(|w| w == b"pixi")
        .and_then(|at| at.checked_sub(4))
        .expect("heif-enc writes pixi");
    for (turns, shown) in [(1, (48, 64)), (2, (64, 48)), (3, (48, 64))] {
        let mut turned = GRADIENT.to_vec();
        let mut irot = [0_u8; 16];
        irot[..8].copy_from_slice(b"\0\0\0\x10irot");
        irot[8] = turns;
        turned
            .get_mut(at..at + 16)
            .expect("in the file")
            .copy_from_slice(&irot);
        assert_eq!(
            sniff(&turned).dimensions,
            Some(shown),
            "{turns} quarter turns"
        );
    }
}

#[test]
fn quarter_turns_swap_the_size_and_mirrors_do_not() {
    let irot = |angle: u8| bx(*b"irot", &[angle]);
    let imir = |axis: u8| bx(*b"imir", &[axis]);
    assert_eq!(size_of(&heic(4032, 3024, &[])), Some((4032, 3024)));
    assert_eq!(size_of(&heic(4032, 3024, &[irot(1)])), Some((3024, 4032)));
    assert_eq!(size_of(&heic(4032, 3024, &[irot(2)])), Some((4032, 3024)));
    assert_eq!(size_of(&heic(4032, 3024, &[irot(3)])), Some((3024, 4032)));
    assert_eq!(
        size_of(&heic(4032, 3024, &[imir(0), irot(3)])),
        Some((3024, 4032))
    );
    assert_eq!(size_of(&heic(4032, 3024, &[imir(1)])), Some((4032, 3024)));
    // Reserved bits above the angle do not count.
    assert_eq!(
        size_of(&heic(4032, 3024, &[irot(0b1111_1100)])),
        Some((4032, 3024))
    );
}

#[test]
fn wide_ids_and_indices_and_a_late_meta_are_read() {
    // ipma version 1 (32-bit item ids), flags 1 (16-bit indices, the essential bit set).
    let hdlr = full(*b"hdlr", 0, 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let pitm = full(*b"pitm", 1, 0, &70_000_u32.to_be_bytes());
    let mut ipma = 1_u32.to_be_bytes().to_vec();
    ipma.extend_from_slice(&70_000_u32.to_be_bytes());
    ipma.push(2);
    ipma.extend_from_slice(&[0x80, 0x02, 0x00, 0x01]);
    let ipco = bx(*b"ipco", &[ispe(640, 480), bx(*b"irot", &[1])].concat());
    let iprp = bx(*b"iprp", &[ipco, full(*b"ipma", 1, 1, &ipma)].concat());
    let meta = full(*b"meta", 0, 0, &[hdlr, pitm, iprp].concat());
    // A 64-bit sized `mdat` of 20 kB before `meta`, streamed a few bytes at a time.
    let mut mdat = 1_u32.to_be_bytes().to_vec();
    mdat.extend_from_slice(b"mdat");
    mdat.extend_from_slice(&20_016_u64.to_be_bytes());
    mdat.extend(std::iter::repeat_n(0x5A, 20_000));
    let file = [ftyp(*b"mif1", &[b"heic"]), mdat, meta].concat();
    for chunk in [1, 3, 7, 8, 15, 16, 4096] {
        let mut sniffer = Sniffer::default();
        for part in file.chunks(chunk) {
            sniffer.feed(part);
        }
        assert_eq!(
            sniffer.finish(),
            Sniffed {
                content_type: Some(ContentType::Heic),
                dimensions: Some((480, 640)),
            },
            "chunks of {chunk}"
        );
    }
}

#[test]
fn a_meta_running_to_the_end_of_the_file_is_read_at_the_end() {
    let mut file = heic(100, 50, &[]);
    let mdat = file.len() - 308;
    file.truncate(mdat);
    let meta_at = ftyp(*b"heic", &[b"mif1", b"heic"]).len();
    file.get_mut(meta_at..meta_at + 4)
        .expect("meta's size")
        .copy_from_slice(&[0; 4]);
    assert_eq!(size_of(&file), Some((100, 50)));
}

#[test]
fn damaged_and_hostile_files_have_no_size_and_never_panic() {
    let good = heic(800, 600, &[bx(*b"irot", &[1])]);
    // Every prefix: a cut file has no size (or, once meta is whole, the right one).
    for end in 0..good.len() {
        let size = size_of(good.get(..end).unwrap_or_default());
        assert!(
            size.is_none() || size == Some((600, 800)),
            "{end}: {size:?}"
        );
    }
    // Box sizes 0, 1 (with a 64-bit size of 0 or past the file) and smaller than a header.
    let ftyp = ftyp(*b"heic", &[]);
    for header in [
        &b"\0\0\0\0free"[..],
        b"\0\0\0\x01free\0\0\0\0\0\0\0\0",
        b"\0\0\0\x01free\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
        b"\0\0\0\x07free",
        b"\0\0\0\x01meta\0\0\0\0\0\0\0\x0F",
        b"\xFF\xFF\xFF\xFFmeta",
    ] {
        let file = [ftyp.clone(), header.to_vec(), good.clone()].concat();
        assert_eq!(size_of(&file), None, "{header:?}");
    }
    // Not an ftyp first.
    assert_eq!(size_of(good.get(ftyp.len()..).unwrap_or_default()), None);
    // A meta beyond the limit is not kept.
    let huge = full(*b"meta", 0, 0, &vec![0; 300_000]);
    assert_eq!(size_of(&[ftyp.clone(), huge].concat()), None);
    // No picture handler, another primary, a primary without ispe, an index past the list and
    // index 0, a zero width.
    let bad_metas = [
        full(*b"meta", 0, 0, &full(*b"hdlr", 0, 0, b"\0\0\0\0vide")),
        meta(9, &[ispe(1, 1)], &[(1, &[1])]),
        meta(1, &[ispe(1, 1)], &[(1, &[])]),
        meta(1, &[ispe(1, 1)], &[(1, &[0x85, 0])]),
        meta(1, &[ispe(0, 10)], &[(1, &[1])]),
    ];
    for bad in bad_metas {
        assert_eq!(size_of(&[ftyp.clone(), bad].concat()), None);
    }
    let hdlr = full(*b"hdlr", 0, 0, b"\0\0\0\0pict\0\0\0\0");
    let pitm = full(*b"pitm", 0, 0, &[0, 1]);
    let ipma = full(*b"ipma", 0, 0, &[0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0xFF, 1]);
    let iprp = bx(*b"iprp", &[bx(*b"ipco", &ispe(5, 5)), ipma].concat());
    let cut = full(*b"meta", 0, 0, &[hdlr, pitm, iprp].concat());
    // The walk ends with the bytes, not the count: the one association there is counts.
    assert_eq!(size_of(&[ftyp.clone(), cut].concat()), Some((5, 5)));
    // Pseudo-random bytes in every box of a good file, at every position in turn.
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    for _ in 0..2_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut file = good.clone();
        let len = u64::try_from(file.len()).unwrap_or(1);
        for k in 0..4 {
            let at = usize::try_from((seed >> (k * 16)) % len).unwrap_or(0);
            if let Some(byte) = file.get_mut(at) {
                *byte = seed.to_le_bytes().get(k).copied().unwrap_or(0);
            }
        }
        let _ = size_of(&file);
        let _ = sniff(&file);
    }
}
