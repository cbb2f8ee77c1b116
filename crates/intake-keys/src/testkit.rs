//! The `KeyStore` contract, and the key rules over it (feature `testkit`): every adapter of the port
//! runs the whole suite.
#![allow(
    clippy::missing_panics_doc,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::sync::Arc;

use futures::future::join_all;

use intake_domain::testkit::{epoch, owner};

use crate::model::{ApiKeyRecord, ApiKeySecret, KeyId};
use crate::ports::{KeyStore, KeyStoreError};
use crate::service::{ApiKeys, AuthError, KeyError};

/// Runs every check, each on a fresh (empty) store from `make`.
pub async fn run_suite<S, F, Fut>(make: F)
where
    S: KeyStore + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    create_get_and_list(&make().await).await;
    create_refuses_existing_id(&make().await).await;
    revoke_keeps_the_first_time(&make().await).await;
    concurrent_creates_have_one_winner(&make().await).await;
    keys_authenticate_until_revoked(Arc::new(make().await)).await;
}

fn key(n: u8, who: &str, name: &str, admin: bool) -> ApiKeyRecord {
    let secret = ApiKeySecret::new(KeyId::from_bytes([n; 8]), [n; 32]);
    ApiKeyRecord::new(&secret, owner(who), name, admin, epoch()).expect("valid key")
}

/// Created keys read back equal (unicode included) and list oldest first; unknown ids are `None`.
pub async fn create_get_and_list(store: &impl KeyStore) {
    let first = key(1, "Zoë|42", "laptop — ünïcode 😀", false);
    let mut second = key(2, "admin", "admin", true);
    second.created_at = epoch().saturating_add(std::time::Duration::from_secs(1));
    store.create(&second).await.expect("create");
    store.create(&first).await.expect("create");
    assert_eq!(
        store.get(&first.key_id).await.expect("get"),
        Some(first.clone())
    );
    assert_eq!(
        store.get(&KeyId::from_bytes([9; 8])).await.expect("get"),
        None
    );
    assert_eq!(store.list().await.expect("list"), vec![first, second]);
}

/// Creating an existing id fails with `AlreadyExists` and leaves the stored key alone.
pub async fn create_refuses_existing_id(store: &impl KeyStore) {
    let first = key(3, "a", "one", false);
    store.create(&first).await.expect("create");
    let imposter = key(3, "b", "two", true);
    assert!(matches!(
        store.create(&imposter).await,
        Err(KeyStoreError::AlreadyExists { id }) if id == first.key_id
    ));
    assert_eq!(store.get(&first.key_id).await.expect("get"), Some(first));
}

/// Revocation is recorded and kept; revoking again keeps the first time; unknown ids are `NotFound`.
pub async fn revoke_keeps_the_first_time(store: &impl KeyStore) {
    let k = key(4, "a", "k", false);
    store.create(&k).await.expect("create");
    let at = epoch().saturating_add(std::time::Duration::from_secs(60));
    let revoked = store.revoke(&k.key_id, at).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(at));
    let later = at.saturating_add(std::time::Duration::from_secs(60));
    assert_eq!(
        store
            .revoke(&k.key_id, later)
            .await
            .expect("again")
            .revoked_at,
        Some(at)
    );
    assert_eq!(
        store
            .get(&k.key_id)
            .await
            .expect("get")
            .and_then(|k| k.revoked_at),
        Some(at)
    );
    assert_eq!(
        store.list().await.expect("list").len(),
        1,
        "revoked key not kept"
    );
    assert!(matches!(
        store.revoke(&KeyId::from_bytes([8; 8]), at).await,
        Err(KeyStoreError::NotFound { .. })
    ));
}

/// Sixteen concurrent creates of one id: exactly one wins.
pub async fn concurrent_creates_have_one_winner(store: &impl KeyStore) {
    let results = join_all((0..16).map(|i| {
        let k = key(5, &format!("owner-{i}"), "k", false);
        async move { store.create(&k).await }
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(KeyStoreError::AlreadyExists { .. })))
    );
}

/// Through the key rules: an issued key authenticates as its owner, a wrong secret or unknown id does
/// not, a revoked key does not, the last admin key cannot be revoked, and an admin key is created
/// only when none is active.
pub async fn keys_authenticate_until_revoked(store: Arc<dyn KeyStore>) {
    let keys = ApiKeys::new(store);
    let admin = keys
        .ensure_admin()
        .await
        .expect("ensure")
        .expect("first start creates an admin key");
    assert!(
        keys.ensure_admin().await.expect("ensure").is_none(),
        "second admin key"
    );
    let alice = keys
        .create(owner("alice"), "laptop", false)
        .await
        .expect("create");
    let principal = keys
        .authenticate(Some(&alice.secret.expose()))
        .await
        .expect("authenticates");
    assert_eq!((principal.owner, principal.admin), (owner("alice"), false));
    let forged = ApiKeySecret::new(alice.secret.key_id(), [0; 32]).expose();
    assert!(matches!(
        keys.authenticate(Some(&forged)).await,
        Err(AuthError::Invalid)
    ));
    let unknown = ApiKeySecret::new(KeyId::from_bytes([0xee; 8]), [0; 32]).expose();
    assert!(matches!(
        keys.authenticate(Some(&unknown)).await,
        Err(AuthError::Invalid)
    ));

    keys.revoke(alice.record.key_id).await.expect("revoke");
    assert!(matches!(
        keys.authenticate(Some(&alice.secret.expose())).await,
        Err(AuthError::Revoked)
    ));
    assert!(matches!(
        keys.revoke(admin.record.key_id).await,
        Err(KeyError::LastAdmin { .. })
    ));
    let second_admin = keys
        .create(owner("ops"), "ops", true)
        .await
        .expect("create");
    keys.revoke(admin.record.key_id)
        .await
        .expect("no longer the last");
    keys.revoke(second_admin.record.key_id)
        .await
        .expect_err("last admin");
    assert_eq!(keys.list().await.expect("list").len(), 3);
}
