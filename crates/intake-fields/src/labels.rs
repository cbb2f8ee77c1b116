//! The labels printed beside values, in English, Malay, German and French: each phrase (word keys,
//! see [`crate::page::key_of`]: `N°` is `n`) and what the value beside it is. Longer phrases win over shorter
//! ones inside them (`Sub Total` is not `Total`, `GST Reg No` is not `GST`).

use intake_domain::model::{FieldType, edit_distance};

use crate::page::Line;

/// What a label announces.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// A field of this type.
    Field(FieldType),
    /// The buyer's block: the name, then its address below.
    Receiver,
    /// A cheque's payee, before the name.
    Payee,
    /// A label with nothing to read (`Change`, `Total Qty`): its words are no other label's.
    Ignore,
}

use FieldType as T;
use Role::{Field as F, Ignore, Payee, Receiver};

/// Every label phrase and its role.
const LABELS: &[(&str, Role)] = &[
    ("grand total", F(T::Total)),
    ("total amount", F(T::Total)),
    ("total due", F(T::Total)),
    ("total payable", F(T::Total)),
    ("total ttc", F(T::Total)),
    ("montant total", F(T::Total)),
    ("total", F(T::Total)),
    ("jumlah besar", F(T::Total)),
    ("jumlah", F(T::Total)),
    ("summe", F(T::Total)),
    ("gesamt", F(T::Total)),
    ("gesamtbetrag", F(T::Total)),
    ("zu zahlen", F(T::Total)),
    ("subtotal", F(T::Subtotal)),
    ("sub total", F(T::Subtotal)),
    ("sub-total", F(T::Subtotal)),
    ("zwischensumme", F(T::Subtotal)),
    ("sous-total", F(T::Subtotal)),
    ("sous total", F(T::Subtotal)),
    ("total ht", F(T::Subtotal)),
    ("jumlah kecil", F(T::Subtotal)),
    ("tax", F(T::Tax)),
    ("sales tax", F(T::Tax)),
    ("total tax", F(T::Tax)),
    ("tax total", F(T::Tax)),
    ("gst", F(T::Tax)),
    ("vat", F(T::Tax)),
    ("sst", F(T::Tax)),
    ("service tax", F(T::Tax)),
    ("mwst", F(T::Tax)),
    ("ust", F(T::Tax)),
    ("tva", F(T::Tax)),
    ("cukai", F(T::Tax)),
    ("gst reg no", F(T::VendorGstNumber)),
    ("gst reg", F(T::VendorGstNumber)),
    ("gst no", F(T::VendorGstNumber)),
    ("gst id", F(T::VendorGstNumber)),
    ("vat no", F(T::VendorVatNumber)),
    ("vat reg no", F(T::VendorVatNumber)),
    ("vat number", F(T::VendorVatNumber)),
    ("ust-idnr", F(T::VendorVatNumber)),
    ("tva intracom", F(T::VendorVatNumber)),
    ("discount", F(T::Discount)),
    ("rabatt", F(T::Discount)),
    ("remise", F(T::Discount)),
    ("diskaun", F(T::Discount)),
    ("service charge", F(T::ServiceCharge)),
    ("svc chg", F(T::ServiceCharge)),
    ("tip", F(T::Gratuity)),
    ("gratuity", F(T::Gratuity)),
    ("trinkgeld", F(T::Gratuity)),
    ("amount paid", F(T::AmountPaid)),
    ("paid", F(T::AmountPaid)),
    ("paid by card", F(T::AmountPaid)),
    ("cash", F(T::AmountPaid)),
    ("card", F(T::AmountPaid)),
    ("visa", F(T::AmountPaid)),
    ("mastercard", F(T::AmountPaid)),
    ("tunai", F(T::AmountPaid)),
    ("bar", F(T::AmountPaid)),
    ("gegeben", F(T::AmountPaid)),
    ("espèces", F(T::AmountPaid)),
    ("tendered", F(T::AmountPaid)),
    ("amount due", F(T::AmountDue)),
    ("balance due", F(T::AmountDue)),
    ("change", Ignore),
    ("rückgeld", Ignore),
    ("baki", Ignore),
    ("rendu", Ignore),
    ("total qty", Ignore),
    ("total items", Ignore),
    ("total quantity", Ignore),
    ("date", F(T::InvoiceReceiptDate)),
    ("invoice date", F(T::InvoiceReceiptDate)),
    ("receipt date", F(T::InvoiceReceiptDate)),
    ("issue date", F(T::InvoiceReceiptDate)),
    ("datum", F(T::InvoiceReceiptDate)),
    ("rechnungsdatum", F(T::InvoiceReceiptDate)),
    ("tarikh", F(T::InvoiceReceiptDate)),
    ("date de facture", F(T::InvoiceReceiptDate)),
    ("date facture", F(T::InvoiceReceiptDate)),
    ("due date", F(T::DueDate)),
    ("payment due", F(T::DueDate)),
    ("due", F(T::DueDate)),
    ("fällig", F(T::DueDate)),
    ("fällig am", F(T::DueDate)),
    ("zahlbar bis", F(T::DueDate)),
    ("échéance", F(T::DueDate)),
    ("date d'échéance", F(T::DueDate)),
    ("tarikh akhir", F(T::DueDate)),
    ("order date", F(T::OrderDate)),
    ("delivery date", F(T::DeliveryDate)),
    ("lieferdatum", F(T::DeliveryDate)),
    ("invoice no", F(T::InvoiceReceiptId)),
    ("invoice #", F(T::InvoiceReceiptId)),
    ("invoice number", F(T::InvoiceReceiptId)),
    ("invoice", F(T::InvoiceReceiptId)),
    ("tax invoice", F(T::InvoiceReceiptId)),
    ("receipt no", F(T::InvoiceReceiptId)),
    ("receipt #", F(T::InvoiceReceiptId)),
    ("receipt number", F(T::InvoiceReceiptId)),
    ("receipt", F(T::InvoiceReceiptId)),
    ("bill no", F(T::InvoiceReceiptId)),
    ("inv no", F(T::InvoiceReceiptId)),
    ("no resit", F(T::InvoiceReceiptId)),
    ("resit no", F(T::InvoiceReceiptId)),
    ("rechnung nr", F(T::InvoiceReceiptId)),
    ("rechnungsnummer", F(T::InvoiceReceiptId)),
    ("rechnung", F(T::InvoiceReceiptId)),
    ("beleg nr", F(T::InvoiceReceiptId)),
    ("bon nr", F(T::InvoiceReceiptId)),
    ("facture n", F(T::InvoiceReceiptId)),
    ("facture no", F(T::InvoiceReceiptId)),
    ("facture", F(T::InvoiceReceiptId)),
    ("n de facture", F(T::InvoiceReceiptId)),
    ("ticket no", F(T::InvoiceReceiptId)),
    ("po number", F(T::PoNumber)),
    ("po no", F(T::PoNumber)),
    ("po #", F(T::PoNumber)),
    ("purchase order", F(T::PoNumber)),
    ("order no", F(T::PoNumber)),
    ("customer no", F(T::CustomerNumber)),
    ("customer id", F(T::CustomerNumber)),
    ("kundennummer", F(T::CustomerNumber)),
    ("kunden-nr", F(T::CustomerNumber)),
    ("terms", F(T::PaymentTerms)),
    ("payment terms", F(T::PaymentTerms)),
    ("zahlungsbedingungen", F(T::PaymentTerms)),
    ("tel", F(T::VendorPhone)),
    ("tel no", F(T::VendorPhone)),
    ("phone", F(T::VendorPhone)),
    ("telephone", F(T::VendorPhone)),
    ("telefon", F(T::VendorPhone)),
    ("tél", F(T::VendorPhone)),
    ("bill to", Receiver),
    ("billed to", Receiver),
    ("sold to", Receiver),
    ("invoice to", Receiver),
    ("customer", Receiver),
    ("client", Receiver),
    ("rechnungsempfänger", Receiver),
    ("facturé à", Receiver),
    ("kepada", Receiver),
    ("pay to the order of", Payee),
    ("pay to the", Payee),
    ("to the order of", Payee),
    ("order of", Payee),
    ("pay", Payee),
    ("payee", Payee),
    ("bayar", Payee),
    ("zahlen sie an", Payee),
    ("payez à l'ordre de", Payee),
    ("check no", F(T::CheckNumber)),
    ("cheque no", F(T::CheckNumber)),
    ("check #", F(T::CheckNumber)),
    ("cheque #", F(T::CheckNumber)),
    ("check number", F(T::CheckNumber)),
    ("cheque number", F(T::CheckNumber)),
];

/// A label found on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Label {
    /// What it announces.
    pub(crate) role: Role,
    /// Its first word.
    pub(crate) start: usize,
    /// Past its last word.
    pub(crate) end: usize,
}

/// The labels of `line`, left to right, none overlapping: at each word the longest phrase that
/// starts there, read exactly, else read through OCR's slips (see [`close`]). `#` printed apart
/// (`Invoice #`) or stuck to the word (`Invoice#`) read alike.
pub(crate) fn labels_in(line: &Line<'_>) -> Vec<Label> {
    let keys: Vec<&str> = line.words.iter().map(|w| w.key.as_str()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let mut best: Option<(usize, Role)> = None;
        for exact in [true, false] {
            for (phrase, role) in LABELS {
                let n = phrase_len(phrase, keys.get(i..).unwrap_or_default(), exact);
                if n > 0 && best.is_none_or(|(m, _)| n > m) {
                    best = Some((n, *role));
                }
            }
            if best.is_some() {
                break;
            }
        }
        match best {
            Some((n, role)) => {
                out.push(Label {
                    role,
                    start: i,
                    end: i + n,
                });
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

/// Whether `key` reads as the label word `part`: equal, or, unless `exact`, a word of five letters
/// or more within one edit of it (two from ten letters: `Zwischersuimme`, `Totat`, `Facturè`).
fn close(part: &str, key: &str, exact: bool) -> bool {
    if part == key {
        return true;
    }
    let letters = part.chars().count();
    if exact || letters < 5 {
        return false;
    }
    let allowed = if letters >= 10 { 2 } else { 1 };
    letters.abs_diff(key.chars().count()) <= allowed && edit_distance(part, key) <= allowed
}

/// How many of `keys` the phrase matches from the first, or 0.
fn phrase_len(phrase: &str, keys: &[&str], exact: bool) -> usize {
    let mut n = 0;
    for part in phrase.split(' ') {
        match keys.get(n) {
            Some(key) if close(part, key, exact) => n += 1,
            // `Invoice#`, `No:` and the like: the last part stuck to a `#`.
            Some(key)
                if key.strip_suffix('#') == Some(part) && n + 1 == phrase.split(' ').count() =>
            {
                n += 1;
            }
            _ => return 0,
        }
    }
    n
}

/// Whether `key` is a word that says a line is a document's title (`INVOICE`, `RECEIPT`).
pub(crate) fn is_title(key: &str) -> bool {
    matches!(
        key,
        "invoice"
            | "receipt"
            | "tax"
            | "rechnung"
            | "facture"
            | "quittung"
            | "kassenbon"
            | "resit"
            | "cheque"
            | "check"
            | "statement"
            | "bill"
            | "official"
    )
}
