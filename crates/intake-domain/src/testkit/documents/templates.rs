//! The layouts: a centred till receipt, a receipt in columns, an invoice with a table and its
//! details on the right, an invoice with a centred header and the buyer beside its details, and a
//! cheque.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use super::{LabelledDocument, Locale, Rng, number_words};
use crate::model::{DocumentKind, FieldType};
use crate::testkit::layout::{TextRun, perfect_reading, render_runs, text_width};
use crate::testkit::layouts::LayoutPage;

const BODY: f32 = 24.0;
const PITCH: f32 = 36.0;

/// What one document says: its vendor, items, date, number and sums.
struct Sale {
    vendor: (&'static str, &'static str, &'static str),
    items: Vec<(u32, &'static str, i64)>,
    date: (i32, u32, u32),
    due: (i32, u32, u32),
    number: String,
    subtotal: i64,
    tax: i64,
    total: i64,
}

fn sale(locale: &Locale, rng: &mut Rng, prefix: &str) -> Sale {
    let vendor = locale.vendors[rng.below(4) as usize];
    let mut goods: Vec<usize> = (0..locale.goods.len()).collect();
    let count = 2 + rng.below(3) as usize;
    let mut items = Vec::new();
    for _ in 0..count {
        let i = goods.remove(rng.below(goods.len() as u64) as usize);
        let (name, price) = locale.goods[i];
        items.push((1 + rng.below(3) as u32, name, price));
    }
    let subtotal: i64 = items.iter().map(|(q, _, p)| i64::from(*q) * p).sum();
    let tax = (subtotal * locale.tax_percent + 50) / 100;
    // Half the dates leave day and month open (both at most 12): the locale's order decides.
    let month = 1 + rng.below(12) as u32;
    let day = if rng.below(2) == 0 {
        1 + rng.below(12) as u32
    } else {
        13 + rng.below(15) as u32
    };
    let due_month = month % 12 + 1;
    Sale {
        vendor,
        items,
        date: (2026, month, day),
        due: (if due_month == 1 { 2027 } else { 2026 }, due_month, day),
        number: format!("{prefix}{}", 1000 + rng.below(9000)),
        subtotal,
        tax,
        total: subtotal + tax,
    }
}

fn iso((y, m, d): (i32, u32, u32)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

fn decimal(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn identifier(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A run centred on `centre`.
fn centred(text: &str, centre: f32, baseline: f32, size: f32, font: &[u8]) -> Option<TextRun> {
    let width = text_width(text, size, font)?;
    Some(TextRun::left(text, centre - width / 2.0, baseline, size))
}

fn document(
    name: String,
    (width, height): (u32, u32),
    runs: &[TextRun],
    kind: DocumentKind,
    locale: &Locale,
    truth: Vec<(FieldType, String)>,
    font: &[u8],
) -> Option<LabelledDocument> {
    Some(LabelledDocument {
        page: LayoutPage {
            name,
            width,
            height,
            pixels: render_runs(width, height, runs, font)?,
            reading: runs.iter().map(|r| r.text.clone()).collect(),
        },
        kind,
        date_order: locale.date_order,
        truth,
        planted_mismatch: false,
        noisy: false,
        reading: perfect_reading(runs, (width, height), font)?,
    })
}

fn sale_truth(sale: &Sale) -> Vec<(FieldType, String)> {
    vec![
        (FieldType::VendorName, sale.vendor.0.to_owned()),
        (FieldType::InvoiceReceiptDate, iso(sale.date)),
        (FieldType::InvoiceReceiptId, identifier(&sale.number)),
        (FieldType::Subtotal, decimal(sale.subtotal)),
        (FieldType::Tax, decimal(sale.tax)),
        (FieldType::Total, decimal(sale.total)),
    ]
}

fn item_text(q: u32, name: &str) -> String {
    if q > 1 {
        format!("{q} x {name}")
    } else {
        name.to_owned()
    }
}

/// A till receipt: everything centred above, items and sums in two columns.
pub(super) fn receipt_centred(locale: &Locale, seed: u64, font: &[u8]) -> Option<LabelledDocument> {
    let mut rng = Rng::new(seed);
    let sale = sale(locale, &mut rng, "");
    let (width, centre, right) = (640_u32, 320.0, 600.0);
    let l = &locale.labels;
    let mut runs = vec![
        centred(sale.vendor.0, centre, 70.0, 34.0, font)?,
        centred(sale.vendor.1, centre, 110.0, 22.0, font)?,
        centred(sale.vendor.2, centre, 140.0, 22.0, font)?,
        centred("Tel: 03-7781 2233", centre, 170.0, 22.0, font)?,
        centred(locale.titles.0, centre, 220.0, 26.0, font)?,
    ];
    let (y, m, d) = sale.date;
    runs.push(TextRun::left(
        format!("{} {}", l.date, locale.date(y, m, d)),
        40.0,
        265.0,
        BODY,
    ));
    runs.push(TextRun::right("14:02", right, 265.0, BODY));
    runs.push(TextRun::left(
        format!("{} {}", l.receipt_no, sale.number),
        40.0,
        300.0,
        BODY,
    ));
    let mut baseline = 355.0;
    for (q, name, price) in &sale.items {
        runs.push(TextRun::left(item_text(*q, name), 40.0, baseline, BODY));
        runs.push(TextRun::right(
            locale.number(i64::from(*q) * price),
            right,
            baseline,
            BODY,
        ));
        baseline += PITCH;
    }
    baseline += 20.0;
    let paid = (sale.total / 1000 + 1) * 1000;
    for (label, amount) in [
        (l.subtotal, locale.number(sale.subtotal)),
        (l.tax, locale.number(sale.tax)),
        (l.total, locale.money(sale.total)),
        (l.paid, locale.number(paid)),
        (l.change, locale.number(paid - sale.total)),
    ] {
        runs.push(TextRun::left(label, 40.0, baseline, BODY));
        runs.push(TextRun::right(amount, right, baseline, BODY));
        baseline += PITCH;
    }
    runs.push(centred(locale.thanks, centre, baseline + 30.0, 22.0, font)?);
    let height = (baseline + 70.0) as u32;
    document(
        format!("receipt centred {}", locale.code),
        (width, height),
        &runs,
        DocumentKind::Receipt,
        locale,
        sale_truth(&sale),
        font,
    )
}

/// A receipt in columns: the vendor on the left, a quantity column, the sums on the right half.
pub(super) fn receipt_columns(locale: &Locale, seed: u64, font: &[u8]) -> Option<LabelledDocument> {
    let mut rng = Rng::new(seed);
    let sale = sale(locale, &mut rng, "");
    let (width, right) = (720_u32, 680.0);
    let l = &locale.labels;
    let (y, m, d) = sale.date;
    let mut runs = vec![
        TextRun::left(sale.vendor.0, 40.0, 70.0, 36.0),
        TextRun::left(
            format!("{}, {}", sale.vendor.1, sale.vendor.2),
            40.0,
            110.0,
            20.0,
        ),
        centred(locale.titles.0, 360.0, 165.0, 24.0, font)?,
        TextRun::left(
            format!("{} {}", l.receipt_no, sale.number),
            40.0,
            215.0,
            BODY,
        ),
        TextRun::right(
            format!("{} {}", l.date, locale.date(y, m, d)),
            right,
            215.0,
            BODY,
        ),
        TextRun::left("Qty", 40.0, 270.0, BODY),
        TextRun::left("Item", 110.0, 270.0, BODY),
        TextRun::right("Amount", right, 270.0, BODY),
    ];
    let mut baseline = 310.0;
    for (q, name, price) in &sale.items {
        runs.push(TextRun::left(q.to_string(), 40.0, baseline, BODY));
        runs.push(TextRun::left(*name, 110.0, baseline, BODY));
        runs.push(TextRun::right(
            locale.number(i64::from(*q) * price),
            right,
            baseline,
            BODY,
        ));
        baseline += PITCH;
    }
    baseline += 20.0;
    for (label, amount, size) in [
        (l.subtotal, locale.number(sale.subtotal), BODY),
        (l.tax, locale.number(sale.tax), BODY),
        (l.total, locale.money(sale.total), 28.0),
        (l.paid, locale.money(sale.total), BODY),
    ] {
        runs.push(TextRun::left(label, 360.0, baseline, size));
        runs.push(TextRun::right(amount, right, baseline, size));
        baseline += PITCH + 4.0;
    }
    let height = (baseline + 40.0) as u32;
    document(
        format!("receipt columns {}", locale.code),
        (width, height),
        &runs,
        DocumentKind::Receipt,
        locale,
        sale_truth(&sale),
        font,
    )
}

fn invoice_truth(sale: &Sale, customer: &str) -> Vec<(FieldType, String)> {
    let mut truth = sale_truth(sale);
    truth.push((FieldType::DueDate, iso(sale.due)));
    truth.push((FieldType::ReceiverName, customer.to_owned()));
    truth
}

/// An invoice: the vendor top left, the title and the details top right, the buyer below, a
/// table of description, quantity, unit price and amount, the sums on the right.
pub(super) fn invoice_table(locale: &Locale, seed: u64, font: &[u8]) -> Option<LabelledDocument> {
    let mut rng = Rng::new(seed);
    let sale = sale(locale, &mut rng, "INV-");
    let customer = locale.customers[rng.below(2) as usize];
    let l = &locale.labels;
    let right = 1040.0;
    let ((y, m, d), (dy, dm, dd)) = (sale.date, sale.due);
    let mut runs = vec![
        TextRun::left(sale.vendor.0, 60.0, 90.0, 34.0),
        TextRun::right(locale.titles.1, right, 90.0, 40.0),
        TextRun::left(sale.vendor.1, 60.0, 130.0, 22.0),
        TextRun::left(sale.vendor.2, 60.0, 160.0, 22.0),
        TextRun::right(
            format!("{} {}", l.invoice_no, sale.number),
            right,
            150.0,
            BODY,
        ),
        TextRun::right(
            format!("{} {}", l.date, locale.date(y, m, d)),
            right,
            185.0,
            BODY,
        ),
        TextRun::right(
            format!("{} {}", l.due, locale.date(dy, dm, dd)),
            right,
            220.0,
            BODY,
        ),
        TextRun::left(l.bill_to, 60.0, 300.0, BODY),
        TextRun::left(customer.0, 60.0, 335.0, BODY),
        TextRun::left(customer.1, 60.0, 370.0, BODY),
        TextRun::left(customer.2, 60.0, 405.0, BODY),
        TextRun::left("Description", 60.0, 480.0, BODY),
        TextRun::right("Qty", 640.0, 480.0, BODY),
        TextRun::right("Unit price", 840.0, 480.0, BODY),
        TextRun::right("Amount", right, 480.0, BODY),
    ];
    let mut baseline = 525.0;
    for (q, name, price) in &sale.items {
        runs.push(TextRun::left(*name, 60.0, baseline, BODY));
        runs.push(TextRun::right(q.to_string(), 640.0, baseline, BODY));
        runs.push(TextRun::right(locale.number(*price), 840.0, baseline, BODY));
        runs.push(TextRun::right(
            locale.number(i64::from(*q) * price),
            right,
            baseline,
            BODY,
        ));
        baseline += 40.0;
    }
    baseline += 40.0;
    for (label, amount) in [
        (l.subtotal, locale.money(sale.subtotal)),
        (l.tax, locale.money(sale.tax)),
        (l.total, locale.money(sale.total)),
    ] {
        runs.push(TextRun::left(label, 640.0, baseline, BODY));
        runs.push(TextRun::right(amount, right, baseline, BODY));
        baseline += 40.0;
    }
    let height = (baseline + 40.0) as u32;
    document(
        format!("invoice table {}", locale.code),
        (1100, height),
        &runs,
        DocumentKind::Invoice,
        locale,
        invoice_truth(&sale, customer.0),
        font,
    )
}

/// An invoice with a centred title and vendor, the details on the left and the buyer beside them
/// on the right, items without quantities.
pub(super) fn invoice_stacked(locale: &Locale, seed: u64, font: &[u8]) -> Option<LabelledDocument> {
    let mut rng = Rng::new(seed);
    let sale = sale(locale, &mut rng, "");
    let customer = locale.customers[rng.below(2) as usize];
    let l = &locale.labels;
    let (centre, right) = (500.0, 940.0);
    let ((y, m, d), (dy, dm, dd)) = (sale.date, sale.due);
    let mut runs = vec![
        centred(locale.titles.1, centre, 60.0, 28.0, font)?,
        centred(sale.vendor.0, centre, 120.0, 36.0, font)?,
        centred(
            &format!("{} - {}", sale.vendor.1, sale.vendor.2),
            centre,
            158.0,
            20.0,
            font,
        )?,
        TextRun::left(
            format!("{} {}", l.invoice_no, sale.number),
            60.0,
            250.0,
            BODY,
        ),
        TextRun::left(
            format!("{} {}", l.date, locale.date(y, m, d)),
            60.0,
            285.0,
            BODY,
        ),
        TextRun::left(
            format!("{} {}", l.due, locale.date(dy, dm, dd)),
            60.0,
            320.0,
            BODY,
        ),
        TextRun::left(l.bill_to, 560.0, 250.0, BODY),
        TextRun::left(customer.0, 560.0, 285.0, BODY),
        TextRun::left(customer.1, 560.0, 320.0, BODY),
        TextRun::left(customer.2, 560.0, 355.0, BODY),
    ];
    let mut baseline = 440.0;
    for (q, name, price) in &sale.items {
        runs.push(TextRun::left(item_text(*q, name), 60.0, baseline, BODY));
        runs.push(TextRun::right(
            locale.number(i64::from(*q) * price),
            right,
            baseline,
            BODY,
        ));
        baseline += 40.0;
    }
    baseline += 30.0;
    for (label, amount) in [
        (l.subtotal, locale.number(sale.subtotal)),
        (l.tax, locale.number(sale.tax)),
        (l.total, locale.money(sale.total)),
    ] {
        runs.push(TextRun::left(label, 560.0, baseline, BODY));
        runs.push(TextRun::right(amount, right, baseline, BODY));
        baseline += 40.0;
    }
    let height = (baseline + 40.0) as u32;
    document(
        format!("invoice stacked {}", locale.code),
        (1000, height),
        &runs,
        DocumentKind::Invoice,
        locale,
        invoice_truth(&sale, customer.0),
        font,
    )
}

/// A nine-digit routing number that passes the ABA checksum.
fn routing(rng: &mut Rng) -> String {
    let mut d: Vec<u64> = (0..8).map(|_| rng.below(10)).collect();
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5]);
    d.push((10 - sum % 10) % 10);
    d.iter().map(u64::to_string).collect()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A cheque: holder and number at the top, date, payee and amount in figures, the amount in words
/// (planted apart from the figures when `mismatch`), bank, memo and the MICR band.
pub(super) fn cheque(
    locale: &Locale,
    currency_word: &str,
    seed: u64,
    mismatch: bool,
    font: &[u8],
) -> Option<LabelledDocument> {
    const HOLDERS: [&str; 3] = ["JOHN Q. PUBLIC", "AISHAH BINTI RAHMAN", "ELEANOR WRIGHT"];
    const PAYEES: [&str; 6] = [
        "Acme Roofing LLC",
        "Dr. Sarah Lim",
        "City Water Board",
        "Oakwood Builders",
        "Jaya Motor Sdn Bhd",
        "Mary Thompson",
    ];
    const BANKS: [&str; 3] = [
        "FIRST HARBOUR BANK",
        "BANK SEJAHTERA BERHAD",
        "NORTHERN COUNTIES BANK",
    ];
    let mut rng = Rng::new(seed);
    let amount = i64::try_from(5_000 + rng.below(500_000)).ok()?;
    let words_amount = if mismatch {
        amount + 100 * (1 + i64::try_from(rng.below(90)).ok()?)
    } else {
        amount
    };
    let number = (1001 + rng.below(8000)).to_string();
    let route = routing(&mut rng);
    let account = (1_000_000_000 + rng.below(8_999_999_999)).to_string();
    let payee = PAYEES[rng.below(6) as usize];
    let holder = HOLDERS[rng.below(3) as usize];
    let bank = BANKS[rng.below(3) as usize];
    let (y, m, d) = (2026, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32);
    let units = u64::try_from(words_amount / 100).ok()?;
    let words = format!(
        "{} and {:02}/100",
        capitalised(&number_words(units)),
        words_amount % 100
    );
    let runs = vec![
        TextRun::left(holder, 40.0, 60.0, 26.0),
        TextRun::left("88 Elm Road, Springfield", 40.0, 92.0, 20.0),
        TextRun::right(number.clone(), 1160.0, 60.0, 26.0),
        TextRun::left("Date", 760.0, 150.0, 22.0),
        TextRun::left(locale.date(y, m, d), 850.0, 150.0, 24.0),
        TextRun::left("PAY TO THE ORDER OF", 40.0, 240.0, 20.0),
        TextRun::left(payee, 300.0, 240.0, 26.0),
        TextRun::right(locale.money(amount), 1160.0, 240.0, 26.0),
        TextRun::left(words.clone(), 40.0, 320.0, 24.0),
        TextRun::right(currency_word, 1160.0, 320.0, 22.0),
        TextRun::left(bank, 40.0, 400.0, 22.0),
        TextRun::left("Memo invoice settlement", 40.0, 450.0, 20.0),
        TextRun::left(
            format!("|:{route}|: {account}||' {number}"),
            200.0,
            520.0,
            28.0,
        ),
    ];
    let truth = vec![
        (FieldType::CheckNumber, number.clone()),
        (FieldType::CheckDate, iso((y, m, d))),
        (FieldType::Payee, payee.to_owned()),
        (FieldType::Amount, decimal(amount)),
        (FieldType::AmountInWords, decimal(words_amount)),
        (FieldType::RoutingNumber, route),
        (FieldType::AccountNumber, account),
    ];
    let mut doc = document(
        format!(
            "cheque {}{} {number}",
            locale.code,
            if mismatch { " planted" } else { "" }
        ),
        (1200, 560),
        &runs,
        DocumentKind::Cheque,
        locale,
        truth,
        font,
    )?;
    doc.planted_mismatch = mismatch;
    Some(doc)
}
