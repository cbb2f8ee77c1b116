//! The `ObjectStore` contract.

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::join_all;

use super::id_at;
use crate::model::{FileName, ObjectKey, Sha256Digest};
use crate::ports::{ObjectStore, StoreError};

/// Writes objects into the store under test the way uploads do (the port itself writes only the
/// objects Intake makes, with `put`).
#[async_trait]
pub trait Seeder: Send + Sync {
    /// Stores `bytes` under `key` with `content_type`.
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str);
}

fn key(n: u64, name: &str) -> ObjectKey {
    ObjectKey::for_upload(id_at(0, n), &FileName::sanitize(name).expect("name"))
}

/// Deterministic bytes that are not a repeating pattern.
pub fn pseudo_random(len: usize, seed: u64) -> Bytes {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect::<Vec<u8>>()
        .into()
}

async fn read_all(store: &dyn ObjectStore, key: &ObjectKey) -> (Vec<Bytes>, Bytes) {
    let got = store.get(key).await.expect("get");
    let chunks: Vec<Bytes> = got.stream.map(|c| c.expect("chunk")).collect().await;
    let whole: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    (chunks, whole.into())
}

/// Runs every check against `store`, writing through `seeder`. Keys are fresh per run (ids made from
/// `run`), so a shared back-end can be reused across runs.
pub async fn run_suite(store: &dyn ObjectStore, seeder: &dyn Seeder, run: u64) {
    assert!(!store.bucket().is_empty(), "the bucket name is empty");
    head_and_get_return_what_was_stored(store, seeder, run).await;
    large_objects_arrive_in_chunks(store, seeder, run).await;
    missing_objects_are_not_found(store, run).await;
    delete_is_idempotent(store, seeder, run).await;
    concurrent_reads_agree(store, seeder, run).await;
    put_stores_and_replaces(store, run).await;
}

/// Small, empty and unicode-named objects read back byte for byte, with size and content type.
pub async fn head_and_get_return_what_was_stored(
    store: &dyn ObjectStore,
    seeder: &dyn Seeder,
    run: u64,
) {
    for (i, (name, len)) in [
        ("a.png", 1000usize),
        ("empty.png", 0),
        ("Happy Face+#é😀.jpg", 4097),
    ]
    .into_iter()
    .enumerate()
    {
        let k = key(run * 100 + i as u64, name);
        let bytes = pseudo_random(len, run + i as u64);
        seeder.put(&k, bytes.clone(), "image/png").await;
        let meta = store.head(&k).await.expect("head");
        assert_eq!(meta.size, len as u64, "head size of {k}");
        assert_eq!(
            meta.content_type.as_deref(),
            Some("image/png"),
            "content type of {k}"
        );
        let got = store.get(&k).await.expect("get");
        assert_eq!(got.meta.size, len as u64);
        let (_, whole) = read_all(store, &k).await;
        assert_eq!(
            Sha256Digest::of(&whole),
            Sha256Digest::of(&bytes),
            "bytes of {k}"
        );
    }
}

/// A 5 MiB object streams in more than one chunk and reassembles exactly.
pub async fn large_objects_arrive_in_chunks(
    store: &dyn ObjectStore,
    seeder: &dyn Seeder,
    run: u64,
) {
    let k = key(run * 100 + 10, "large.png");
    let bytes = pseudo_random(5 * 1024 * 1024 + 3, run);
    seeder.put(&k, bytes.clone(), "image/png").await;
    let (chunks, whole) = read_all(store, &k).await;
    assert!(
        chunks.len() > 1,
        "a 5 MiB object arrived as one chunk: the read is not streaming"
    );
    assert_eq!(whole.len(), bytes.len());
    assert_eq!(whole, bytes);
}

/// `head` and `get` of a missing key are `NotFound`.
pub async fn missing_objects_are_not_found(store: &dyn ObjectStore, run: u64) {
    let k = key(run * 100 + 20, "missing.png");
    assert!(
        matches!(store.head(&k).await, Err(StoreError::NotFound { .. })),
        "head of a missing object"
    );
    assert!(
        matches!(store.get(&k).await, Err(StoreError::NotFound { .. })),
        "get of a missing object"
    );
}

/// Deleting removes the object; deleting again succeeds.
pub async fn delete_is_idempotent(store: &dyn ObjectStore, seeder: &dyn Seeder, run: u64) {
    let k = key(run * 100 + 30, "deleted.png");
    seeder
        .put(&k, Bytes::from_static(b"bytes"), "image/png")
        .await;
    store.delete(&k).await.expect("delete");
    assert!(
        matches!(store.head(&k).await, Err(StoreError::NotFound { .. })),
        "object still there after delete"
    );
    store.delete(&k).await.expect("second delete");
}

/// Eight concurrent reads of one object all see the same bytes.
pub async fn concurrent_reads_agree(store: &dyn ObjectStore, seeder: &dyn Seeder, run: u64) {
    let k = key(run * 100 + 40, "shared.png");
    let bytes = pseudo_random(300_000, run + 40);
    seeder.put(&k, bytes.clone(), "image/png").await;
    let reads = join_all((0..8).map(|_| read_all(store, &k))).await;
    for (_, whole) in reads {
        assert_eq!(whole, bytes);
    }
}

/// `put` stores an object (a preview) that reads back byte for byte with its type, replaces it whole
/// when put again, and is deleted like any other.
pub async fn put_stores_and_replaces(store: &dyn ObjectStore, run: u64) {
    let k = ObjectKey::for_preview(id_at(0, run * 100 + 40));
    let first = pseudo_random(5000, run + 7);
    store
        .put(&k, first.clone(), "image/jpeg")
        .await
        .expect("put");
    let meta = store.head(&k).await.expect("head");
    assert_eq!(meta.size, 5000);
    assert_eq!(meta.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(read_all(store, &k).await.1, first);
    let second = pseudo_random(300, run + 8);
    store
        .put(&k, second.clone(), "image/jpeg")
        .await
        .expect("put again");
    assert_eq!(
        read_all(store, &k).await.1,
        second,
        "put replaces the object"
    );
    assert_eq!(store.head(&k).await.expect("head").size, 300);
    store.delete(&k).await.expect("delete");
    assert!(matches!(
        store.head(&k).await,
        Err(StoreError::NotFound { .. })
    ));
}
