//! Figure 8: full-text search latency over 10,000 records with OCR text shaped like receipts, cheques
//! and forms (2,000 quick), through `Intake::list_images` with `q` on the SQLite adapter (match, rank,
//! join the records, decode them, cut snippets), against a bare FTS5 query of the same index on its
//! own connection (match, rank, limit: the least any search over this index does). Queries run one
//! at a time, each query of the mix in turn, after one warm-up pass.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::future::join_all;
use intake_domain::Intake;
use intake_domain::services::ListRequest;
use intake_domain::testkit::search::processed;
use intake_local::SqliteRepository;
use intake_memory::{MemoryObjectStore, MemoryUrlSigner};

use crate::Plan;
use crate::report::{Figure, Section};
use crate::support::{BenchError, bench_owner, fail, scripted_engine};

/// A deterministic generator (xorshift64*), so every run searches the same records.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// An index skewed towards small values, as word frequencies are (roughly Zipf).
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b).min(self.below(n))
    }
}

const FORM_WORDS: &[&str] = &[
    "total",
    "subtotal",
    "tax",
    "invoice",
    "receipt",
    "date",
    "amount",
    "paid",
    "balance",
    "due",
    "account",
    "number",
    "customer",
    "name",
    "address",
    "phone",
    "payee",
    "pay",
    "order",
    "of",
    "the",
    "to",
    "and",
    "for",
    "cash",
    "card",
    "visa",
    "change",
    "qty",
    "price",
    "item",
    "items",
    "thank",
    "you",
    "store",
    "street",
    "road",
    "city",
    "signature",
    "authorised",
    "bank",
    "cheque",
    "memo",
    "dollars",
    "cents",
    "ringgit",
    "gst",
    "vat",
    "discount",
    "member",
    "points",
    "ref",
    "branch",
    "approved",
    "terminal",
    "merchant",
    "form",
    "page",
    "section",
    "department",
    "report",
];

/// A vocabulary of product, merchant and person names: made-up but word-shaped.
fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "ro", "mi", "ten", "sa", "lu", "ver", "don", "ba", "li", "na", "cor", "pe", "tri",
        "mo", "gal", "ze", "fin", "ha", "rul",
    ];
    (0..n)
        .map(|_| {
            let parts = 2 + rng.below(2);
            (0..parts)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

/// One document's OCR text: 15–40 lines of form words, names and amounts, dates and numbers.
fn document(rng: &mut Rng, names: &[String]) -> String {
    let lines = 15 + rng.below(26);
    let mut text = String::new();
    for _ in 0..lines {
        let words = 2 + rng.below(5);
        for w in 0..words {
            if w > 0 {
                text.push(' ');
            }
            match rng.below(10) {
                0..=4 => text.push_str(FORM_WORDS[rng.skewed(FORM_WORDS.len())]),
                5..=7 => text.push_str(&names[rng.skewed(names.len())].to_uppercase()),
                8 => {
                    let _ = write!(text, "{}.{:02}", rng.below(5000), rng.below(100));
                }
                _ => {
                    let _ = write!(
                        text,
                        "2026-{:02}-{:02}",
                        1 + rng.below(12),
                        1 + rng.below(28)
                    );
                }
            }
        }
        text.push('\n');
    }
    text
}

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let records = if plan.quick { 2_000 } else { 10_000 };
    let mut section = Section::new("8. Full-text search (SQLite FTS5)");
    println!("{}", section.title);
    let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
    let db = dir.path().join("intake.db");
    let repository = SqliteRepository::open(&db).map_err(fail("open db"))?;
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let names = vocabulary(&mut rng, 3000);
    let owner = bench_owner();
    let texts: Vec<String> = (0..records).map(|_| document(&mut rng, &names)).collect();
    for (chunk_index, chunk) in texts.chunks(500).enumerate() {
        join_all(chunk.iter().enumerate().map(|(i, text)| {
            let n = chunk_index * 500 + i;
            let id = intake_domain::testkit::id_at(i64::try_from(n).unwrap_or(0), n as u64);
            let (repository, owner) = (&repository, owner.clone());
            async move {
                let name = format!("scan-{n}.png");
                processed(repository, id, owner, &name, text).await
            }
        }))
        .await;
    }
    let intake = Intake::builder()
        .store(MemoryObjectStore::default())
        .signer(MemoryUrlSigner::default())
        .ocr(scripted_engine())
        .repository(repository.clone())
        .search(repository)
        .build()
        .map_err(fail("compose"))?;

    // The mix: common and rare words, names, a two-word search, an amount and a date as typed, a
    // prefix as a search box sends it while typing.
    let mut queries: Vec<String> = Vec::new();
    for i in 0..40 {
        queries.push(FORM_WORDS[i % FORM_WORDS.len()].to_owned());
        queries.push(names[rng.below(names.len())].clone());
        queries.push(format!(
            "{} {}",
            FORM_WORDS[rng.skewed(FORM_WORDS.len())],
            names[rng.skewed(names.len())]
        ));
        queries.push(format!("{}.{:02}", rng.below(5000), rng.below(100)));
        let name = &names[rng.below(names.len())];
        queries.push(name.chars().take(3).collect());
    }

    let ours = time_queries(&queries, |q| {
        let intake = intake.clone();
        let owner = owner.clone();
        async move {
            // The search text is parsed inside the timing, as the API does for every request.
            let text = intake_domain::model::SearchText::parse(&q).map_err(fail("search text"))?;
            intake
                .list_images(
                    &owner,
                    &ListRequest::default().with_search(text).with_limit(20),
                )
                .await
                .map(|page| page.images.len())
                .map_err(fail("search"))
        }
    })
    .await?;
    let bare = bare_fts(&db, &queries)?;
    for (name, p) in [("p50", 0.50), ("p99", 0.99)] {
        let (o, r) = (percentile(&ours, p), percentile(&bare, p));
        let ratio = o.as_secs_f64() / r.as_secs_f64().max(1e-9);
        let target = if name == "p50" { 3.0 } else { 4.0 };
        section.figure(Figure {
            name: format!("search latency {name}, {records} records, 20 hits a page"),
            ours: format!("{:.2} ms", o.as_secs_f64() * 1e3),
            reference_name: "bare FTS5 MATCH … ORDER BY rank LIMIT 21, same index".into(),
            reference: format!("{:.2} ms", r.as_secs_f64() * 1e3),
            ratio,
            target: format!("≤ {target:.0}×"),
            met: Some(ratio <= target),
        });
    }
    section.note(format!(
        "{} queries per side ({} distinct, after a warm-up pass): common and rare words, names, two words, \
         amounts as typed, three-letter prefixes. Intake's side is the service call an API request makes \
         (validate, match and rank, join and decode the records, owner and status filters, snippets and \
         matched lines); the reference only matches, ranks and returns row ids.",
        ours.len(),
        queries.len()
    ));
    Ok(section)
}

/// Every query's latency, three passes after a warm-up pass.
async fn time_queries<F, Fut>(queries: &[String], f: F) -> Result<Vec<Duration>, BenchError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<usize, BenchError>>,
{
    for q in queries {
        f(q.clone()).await?;
    }
    let mut times = Vec::with_capacity(queries.len() * 3);
    for _ in 0..3 {
        for q in queries {
            let start = Instant::now();
            f(q.clone()).await?;
            times.push(start.elapsed());
        }
    }
    Ok(times)
}

/// The same queries as bare FTS5 statements on a connection of their own.
fn bare_fts(db: &Path, queries: &[String]) -> Result<Vec<Duration>, BenchError> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(fail("open db"))?;
    let run = |q: &str| -> Result<usize, BenchError> {
        let text = intake_domain::model::SearchText::parse(q).map_err(fail("query"))?;
        let terms = text.terms();
        let fts: Vec<String> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let star = if i + 1 == terms.len() { "*" } else { "" };
                format!("\"{}\"{star}", t.join(" "))
            })
            .collect();
        let mut statement = conn
            .prepare_cached(
                "SELECT rowid FROM image_text WHERE image_text MATCH ?1 ORDER BY rank LIMIT 21",
            )
            .map_err(fail("prepare"))?;
        let rows = statement
            .query_map([fts.join(" ")], |row| row.get::<_, i64>(0))
            .map_err(fail("query"))?;
        Ok(rows.count())
    };
    for q in queries {
        run(q)?;
    }
    let mut times = Vec::with_capacity(queries.len() * 3);
    for _ in 0..3 {
        for q in queries {
            let start = Instant::now();
            run(q)?;
            times.push(start.elapsed());
        }
    }
    Ok(times)
}

fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}
