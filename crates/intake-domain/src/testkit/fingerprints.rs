//! The `FingerprintIndex` contract: pages kept per owner and image, found by their band keys only,
//! replaced and forgotten.

use std::future::Future;

use super::{id_at, owner};
use crate::model::{
    BandKey, DuplicateRule, HashKind, ImageHash, ImageId, NearDuplicate, PageFingerprint,
    PageNumber, Probe, bands_of,
};
use crate::ports::FingerprintIndex;

/// Runs every check, each on a fresh (empty) index from `make`.
pub async fn run_suite<I, F, Fut>(make: F)
where
    I: FingerprintIndex,
    F: Fn() -> Fut,
    Fut: Future<Output = I>,
{
    keeps_pages_as_they_were_put(&make().await).await;
    finds_only_pages_sharing_a_key(&make().await).await;
    owners_find_only_their_own(&make().await).await;
    put_replaces_and_remove_forgets(&make().await).await;
    finds_each_page_once(&make().await).await;
    finds_near_duplicates_with_the_rule(&make().await).await;
    candidates_are_what_the_probe_admits(&make().await).await;
    a_shared_popular_date_is_no_candidate(&make().await).await;
    a_duplicate_of_popular_tokens_is_found(&make().await).await;
}

const RECEIPT: &str = "ACME MARKET\n12 Harbour Road\nMilk 2.50\nBread 3.20\nTOTAL 5.70\n\
    2026-11-25 14:02\nReceipt 004417\nThank you";

fn page_no(n: u32) -> PageNumber {
    PageNumber::new(n).expect("a page number")
}

/// A page with image hash `image` and the fingerprint of `text`.
pub fn page(n: u32, image: u64, text: &str) -> PageFingerprint {
    PageFingerprint::new(page_no(n), Some(ImageHash(image)), text)
}

fn image_keys(hash: u64) -> Vec<BandKey> {
    bands_of(HashKind::Image, hash).collect()
}

async fn found_ids(index: &impl FingerprintIndex, who: &str, keys: &[BandKey]) -> Vec<ImageId> {
    let mut ids: Vec<ImageId> = index
        .find(&owner(who), keys)
        .await
        .expect("find")
        .into_iter()
        .map(|p| p.image_id)
        .collect();
    ids.sort();
    ids
}

/// A page comes back exactly as it was put: hashes, tokens, page number; a page without text, and
/// one with text only, too.
pub async fn keeps_pages_as_they_were_put(index: &impl FingerprintIndex) {
    let id = id_at(0, 1);
    let full = page(1, 0x1111_2222_3333_4444, RECEIPT);
    let bare = PageFingerprint::new(page_no(2), Some(ImageHash(0x5555_6666_7777_8888)), "");
    let words = PageFingerprint::new(page_no(3), None, "Invoice 7781 due 2026-12-01 total 99.00");
    index
        .put(
            &owner("alice"),
            id,
            &[full.clone(), bare.clone(), words.clone()],
        )
        .await
        .expect("put");
    let mut keys = full.band_keys();
    keys.extend(bare.band_keys());
    keys.extend(words.band_keys());
    let mut found = index.find(&owner("alice"), &keys).await.expect("find");
    found.sort_by_key(|p| p.fingerprint.page);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|p| p.image_id == id));
    assert_eq!(found[0].fingerprint, full);
    assert_eq!(found[1].fingerprint, bare);
    assert_eq!(found[2].fingerprint, words);
}

/// A lookup finds the pages stored under one of its keys, by any band, and nothing else: not the
/// owner's other images, not a key of the other hash kind with the same bits.
pub async fn finds_only_pages_sharing_a_key(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let (a, b, c) = (id_at(0, 2), id_at(1, 2), id_at(2, 2));
    index
        .put(&alice, a, &[page(1, 0xAAAA_0000_0000_0001, "")])
        .await
        .expect("put");
    index
        .put(&alice, b, &[page(1, 0x0000_BBBB_0000_0002, "")])
        .await
        .expect("put");
    index
        .put(&alice, c, &[page(1, 0x0000_0000_CCCC_0003, "")])
        .await
        .expect("put");
    assert_eq!(
        found_ids(index, "alice", &image_keys(0xAAAA_FFFF_FFFF_FFFF)).await,
        vec![a],
        "the top band matches"
    );
    assert_eq!(
        found_ids(index, "alice", &image_keys(0xFFFF_FFFF_CCCC_FFFF)).await,
        vec![c],
        "the third band matches"
    );
    // Bands 0 of b and c are 0x0002 and 0x0003: ask for both.
    let mut keys = image_keys(0xFFFF_FFFF_FFFF_0002);
    keys.extend(image_keys(0xFFFF_FFFF_FFFF_0003));
    assert_eq!(found_ids(index, "alice", &keys).await, vec![b, c]);
    assert!(
        found_ids(index, "alice", &image_keys(0xFFFF_FFFF_FFFF_FFFF))
            .await
            .is_empty()
    );
    let token_keys: Vec<BandKey> = bands_of(HashKind::Token, 0xAAAA_0000_0000_0001).collect();
    assert!(
        found_ids(index, "alice", &token_keys).await.is_empty(),
        "an image band is not a token key"
    );
    assert!(found_ids(index, "alice", &[]).await.is_empty());
}

/// Another owner's pages are never found, however well they match.
pub async fn owners_find_only_their_own(index: &impl FingerprintIndex) {
    let hash = 0x1234_5678_9ABC_DEF0;
    let (hers, his) = (id_at(0, 3), id_at(1, 3));
    index
        .put(&owner("alice"), hers, &[page(1, hash, RECEIPT)])
        .await
        .expect("put");
    index
        .put(&owner("bob"), his, &[page(1, hash, RECEIPT)])
        .await
        .expect("put");
    assert_eq!(
        found_ids(index, "alice", &image_keys(hash)).await,
        vec![hers]
    );
    assert_eq!(found_ids(index, "bob", &image_keys(hash)).await, vec![his]);
    assert!(
        found_ids(index, "carol", &image_keys(hash))
            .await
            .is_empty()
    );
    // Removing bob's image leaves alice's.
    index.remove(&owner("bob"), hers).await.expect("remove");
    assert_eq!(
        found_ids(index, "alice", &image_keys(hash)).await,
        vec![hers]
    );
}

/// Putting an image's pages again replaces them all (its old keys find nothing, a page it no longer
/// has is gone); removing forgets it; removing what is not there is fine.
pub async fn put_replaces_and_remove_forgets(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let id = id_at(0, 4);
    let (old, new) = (0x0F0F_0F0F_0F0F_0F0F, 0xF0F0_F0F0_F0F0_F0F0);
    index
        .put(&alice, id, &[page(1, old, ""), page(2, old ^ 1, "")])
        .await
        .expect("put");
    index
        .put(&alice, id, &[page(1, new, "")])
        .await
        .expect("put again");
    assert!(found_ids(index, "alice", &image_keys(old)).await.is_empty());
    let found = index.find(&alice, &image_keys(new)).await.expect("find");
    assert_eq!(found.len(), 1, "one page left: {found:?}");
    index.put(&alice, id, &[]).await.expect("put none");
    assert!(found_ids(index, "alice", &image_keys(new)).await.is_empty());
    index
        .put(&alice, id, &[page(1, new, "")])
        .await
        .expect("put");
    index.remove(&alice, id).await.expect("remove");
    assert!(found_ids(index, "alice", &image_keys(new)).await.is_empty());
    index.remove(&alice, id).await.expect("remove again");
    index
        .remove(&alice, id_at(9, 4))
        .await
        .expect("remove an unknown image");
}

/// A page matched by many keys (every band, both hashes) is found once; each page of a
/// multi-page image is found.
pub async fn finds_each_page_once(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let id = id_at(0, 5);
    let one = page(1, 0x0102_0304_0506_0708, RECEIPT);
    let two = page(2, 0x0102_0304_0506_0709, RECEIPT);
    index
        .put(&alice, id, &[one.clone(), two.clone()])
        .await
        .expect("put");
    let mut keys = one.band_keys();
    keys.extend(two.band_keys());
    keys.extend(one.band_keys());
    let found = index.find(&alice, &keys).await.expect("find");
    let mut pages: Vec<u32> = found.iter().map(|p| p.fingerprint.page.get()).collect();
    pages.sort_unstable();
    assert_eq!(pages, vec![1, 2], "{found:?}");
}

/// With the domain's probe keys and rule, a lookup finds a stored page a few bits away (a re-scan)
/// and one read alike with the same tokens (another photo), and the rule leaves out the same
/// template with other values, even where the index offered it.
pub async fn finds_near_duplicates_with_the_rule(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let rule = DuplicateRule::default();
    let (original, photo_source, look_alike) = (id_at(0, 6), id_at(1, 6), id_at(2, 6));
    let hash = 0x3C3C_A5A5_0FF0_1234_u64;
    index
        .put(&alice, original, &[page(1, hash, RECEIPT)])
        .await
        .expect("put");
    let other_values = RECEIPT
        .replace("5.70", "8.10")
        .replace("2026-11-25", "2026-12-03")
        .replace("004417", "004530");
    index
        .put(&alice, look_alike, &[page(1, hash ^ 0b11, &other_values)])
        .await
        .expect("put");
    // A re-scan: five bits off, in all four bands (no band equal), a word misread.
    let rescan = page(
        1,
        hash ^ 0x0003_0001_0001_0004,
        &RECEIPT.replace("Milk", "Mllk"),
    );
    let candidates = index
        .find(&alice, &rescan.probe_keys(&rule))
        .await
        .expect("find");
    assert!(
        candidates.iter().any(|p| p.image_id == original),
        "the probe reaches every band within the rule's distance"
    );
    let found: Vec<NearDuplicate> = rule.near_duplicates(
        photo_source,
        std::slice::from_ref(&rescan),
        candidates.iter().map(|p| (p.image_id, &p.fingerprint)),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].image_id, original);
    assert!(found[0].matched_tokens.contains(&"004417".to_owned()));
    // Another photo: the picture far off, the words and tokens the same.
    let photo = page(1, !hash, RECEIPT);
    let candidates = index
        .find(&alice, &photo.probe_keys(&rule))
        .await
        .expect("find");
    let found = rule.near_duplicates(
        photo_source,
        std::slice::from_ref(&photo),
        candidates.iter().map(|p| (p.image_id, &p.fingerprint)),
    );
    assert_eq!(
        found.iter().map(|f| f.image_id).collect::<Vec<_>>(),
        vec![original],
        "{found:?}"
    );
    assert_eq!(found[0].basis, crate::model::Basis::Text);
}

fn pairs(pages: &[crate::ports::IndexedPage]) -> Vec<(ImageId, u32)> {
    let mut pairs: Vec<(ImageId, u32)> = pages
        .iter()
        .map(|p| (p.image_id, p.fingerprint.page.get()))
        .collect();
    pairs.sort_unstable();
    pairs
}

/// `candidates` returns exactly the pages under the probe's keys that the probe admits (counted
/// from the index's key entries), each once, with their fingerprints as stored: a re-scan and
/// another photo of the receipt, not the same template with other values nor an unrelated page.
pub async fn candidates_are_what_the_probe_admits(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let rule = DuplicateRule::default();
    let hash = 0x3C3C_A5A5_0FF0_1234_u64;
    let other_values = RECEIPT
        .replace("5.70", "8.10")
        .replace("2026-11-25", "2026-12-03")
        .replace("004417", "004530");
    let stored = [
        (id_at(0, 7), page(1, hash ^ 0x0003_0001_0001_0004, RECEIPT)),
        (
            id_at(1, 7),
            page(1, !hash, &RECEIPT.replace("Milk", "Mllk")),
        ),
        (id_at(2, 7), page(1, hash ^ 0b11, &other_values)),
        (
            id_at(3, 7),
            page(1, hash ^ 0b1, "Parking 2026-11-25 ticket 7781 paid 3.00"),
        ),
        (
            id_at(4, 7),
            page(2, 0x1111_2222_3333_4444, "Invoice 7781 total 99.00"),
        ),
    ];
    for (id, print) in &stored {
        index
            .put(&alice, *id, std::slice::from_ref(print))
            .await
            .expect("put");
    }
    let index_page = page(1, hash, RECEIPT);
    let probe = Probe::of(&index_page, &rule);
    let found = index.candidates(&alice, &probe).await.expect("candidates");
    let expected: Vec<(ImageId, u32)> = stored
        .iter()
        .filter(|(_, print)| probe.admits_page(print))
        .map(|(id, print)| (*id, print.page.get()))
        .collect();
    assert_eq!(pairs(&found), expected, "{found:?}");
    assert_eq!(
        expected.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![id_at(0, 7), id_at(1, 7)],
        "the re-scan and the other photo; not the template, not the parking ticket"
    );
    for hit in &found {
        let kept = stored
            .iter()
            .find(|(id, _)| *id == hit.image_id)
            .expect("stored");
        assert_eq!(hit.fingerprint, kept.1);
    }
    // Another owner's index has none of them; a probe of nothing finds nothing.
    assert!(
        index
            .candidates(&owner("bob"), &probe)
            .await
            .expect("candidates")
            .is_empty()
    );
    let void = Probe::of(&PageFingerprint::new(page_no(1), None, "no tokens"), &rule);
    assert!(
        index
            .candidates(&alice, &void)
            .await
            .expect("candidates")
            .is_empty()
    );
}

/// Pages of other documents that share only a popular date with the probe (every receipt of the
/// day) are no candidates, however many; the re-scanned receipt among them always is.
pub async fn a_shared_popular_date_is_no_candidate(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let rule = DuplicateRule::default();
    let hash = 0x0F1E_2D3C_4B5A_6978_u64;
    let mut state = hash;
    for n in 0..40u64 {
        state = state.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15;
        let text = format!(
            "SHOP {n}\nItems {n}.25\nTOTAL {}.40\n2026-11-25 09:{:02}\nReceipt {:06}",
            n + 20,
            n % 60,
            500_000 + n
        );
        index
            .put(&alice, id_at(8, 100 + n), &[page(1, state, &text)])
            .await
            .expect("put");
    }
    let original = id_at(8, 99);
    index
        .put(&alice, original, &[page(1, hash, RECEIPT)])
        .await
        .expect("put");
    let rescan = page(
        1,
        hash ^ 0x0101_0101_0000_0001,
        &RECEIPT.replace("Bread", "Brcad"),
    );
    let probe = Probe::of(&rescan, &rule);
    let by_key = index.find(&alice, &probe.token_keys).await.expect("find");
    assert!(
        by_key.len() > 40,
        "the date is under every receipt: {}",
        by_key.len()
    );
    let found = index.candidates(&alice, &probe).await.expect("candidates");
    assert_eq!(
        found.iter().map(|p| p.image_id).collect::<Vec<_>>(),
        vec![original],
        "{found:?}"
    );
    let flagged = rule.near_duplicates(
        id_at(8, 98),
        std::slice::from_ref(&rescan),
        found.iter().map(|p| (p.image_id, &p.fingerprint)),
    );
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].image_id, original);
}

/// Words of their own for page `n`: a text far from every other page's.
fn own_words(n: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "do", "fu", "ga", "hi", "jo", "pu",
        "se",
    ];
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..20)
        .map(|_| {
            (0..3)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    SYLLABLES[usize::try_from(state % 16).unwrap_or(0)]
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A receipt whose every token is popular (the day's date and two prices forty other receipts of
/// other pictures and words share) is found by its re-scan, and only the pages the probe admits
/// are returned: not the forty, and not a look-alike of the same template (its picture near) that
/// shares only the date.
pub async fn a_duplicate_of_popular_tokens_is_found(index: &impl FingerprintIndex) {
    let alice = owner("alice");
    let rule = DuplicateRule::default();
    let hash = 0x7E57_0DD5_1234_ABCD_u64;
    let popular = "Coffee 3.20\nCake 4.50\n2026-11-25";
    let words = own_words(1000);
    let text_of = |words: &str| crate::model::TextHash::of(&format!("{words}\n{popular}"));
    let mut stored = Vec::new();
    let mut state = hash;
    // Forty receipts whose words read far from the original's (by more than the rule's distance).
    let mut seed = 0;
    while stored.len() < 40 {
        seed += 1;
        let theirs = own_words(seed);
        let apart = text_of(&theirs)
            .zip(text_of(&words))
            .map_or(0, |(a, b)| a.distance(b));
        if apart <= rule.max_text_distance {
            continue;
        }
        state = state.rotate_left(23) ^ 0xD1B5_4A32_D192_ED03;
        stored.push((
            id_at(9, 200 + seed),
            page(1, state, &format!("{theirs}\n{popular}")),
        ));
    }
    let original = (id_at(9, 199), page(1, hash, &format!("{words}\n{popular}")));
    let look_alike = (
        id_at(9, 198),
        page(
            1,
            hash ^ 0b101,
            &format!("{words}\nTea 2.10\n2026-11-25\nNo 004502"),
        ),
    );
    stored.push(original.clone());
    stored.push(look_alike.clone());
    for (id, print) in &stored {
        index
            .put(&alice, *id, std::slice::from_ref(print))
            .await
            .expect("put");
    }
    let rescan = page(
        1,
        hash ^ 0x0100_0001_0010_0000,
        &format!("{words}\n{popular}"),
    );
    let probe = Probe::of(&rescan, &rule);
    assert_eq!(probe.token_keys.len(), 3);
    let by_key = index.find(&alice, &probe.token_keys).await.expect("find");
    assert!(by_key.len() > 40, "{}", by_key.len());
    let found = index.candidates(&alice, &probe).await.expect("candidates");
    let expected: Vec<(ImageId, u32)> = {
        let mut e: Vec<(ImageId, u32)> = stored
            .iter()
            .filter(|(_, print)| probe.admits_page(print))
            .map(|(id, print)| (*id, print.page.get()))
            .collect();
        e.sort_unstable();
        e
    };
    assert_eq!(pairs(&found), expected, "{found:?}");
    assert!(expected.contains(&(original.0, 1)), "{expected:?}");
    assert!(!expected.contains(&(look_alike.0, 1)), "{expected:?}");
    assert!(expected.len() < 4, "{expected:?}");
    let flagged = rule.near_duplicates(
        id_at(9, 197),
        std::slice::from_ref(&rescan),
        found.iter().map(|p| (p.image_id, &p.fingerprint)),
    );
    assert_eq!(
        flagged.iter().map(|f| f.image_id).collect::<Vec<_>>(),
        vec![original.0]
    );
}
