//! The schema: its migrations, one `.sql` file each in `migrations/`, applied in order, and the SQL
//! functions its triggers call.

use rusqlite::Connection;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran, so a migration
/// is only ever added at the end, never changed or reordered.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_images.sql"),
    include_str!("migrations/0002_jobs.sql"),
    include_str!("migrations/0003_owners_and_api_keys.sql"),
    include_str!("migrations/0004_ocr_lines_apart.sql"),
    include_str!("migrations/0005_search_index.sql"),
    include_str!("migrations/0006_search_domain_words.sql"),
    include_str!("migrations/0007_outbox.sql"),
    include_str!("migrations/0008_webhooks.sql"),
    include_str!("migrations/0009_index_tickets_once_processed.sql"),
    include_str!("migrations/0010_fingerprints.sql"),
    include_str!("migrations/0011_fingerprint_backfill.sql"),
    include_str!("migrations/0012_fingerprint_bands_by_image_first.sql"),
    include_str!("migrations/0013_fields.sql"),
    include_str!("migrations/0014_fingerprint_keys.sql"),
];

/// Registers the SQL functions the schema's triggers call: `intake_words(text)`, the domain's
/// normalised words of `text` separated by spaces (empty for NULL), which the search index holds.
pub(super) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "intake_words",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text
                .map(|t| intake_domain::model::index_words(&t))
                .unwrap_or_default())
        },
    )
}

/// Brings the schema up to date: runs the migrations not yet applied, each in its own transaction
/// with the `user_version` it leaves.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(applied).unwrap_or(usize::MAX))
    {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}
