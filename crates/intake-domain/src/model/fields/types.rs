//! The field types: Textract AnalyzeExpense's standard names (summary fields and line item cells),
//! the cheque's, and `KEY_VALUE` for a form's labelled answers.

use serde::{Deserialize, Serialize};

/// What a field is. Serialised in AnalyzeExpense's spelling (`VENDOR_NAME`, `TOTAL`), so an AWS
/// adapter maps one to one and users of Textract feel at home.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum FieldType {
    // AnalyzeExpense summary fields.
    /// The seller's name.
    VendorName,
    /// The seller's address.
    VendorAddress,
    /// The seller's telephone number.
    VendorPhone,
    /// The seller's web address.
    VendorUrl,
    /// The seller's GST registration.
    VendorGstNumber,
    /// The seller's VAT registration.
    VendorVatNumber,
    /// The seller's Australian Business Number.
    VendorAbnNumber,
    /// The seller's Indian Permanent Account Number.
    VendorPanNumber,
    /// The buyer's name.
    ReceiverName,
    /// The buyer's address.
    ReceiverAddress,
    /// The buyer's telephone number.
    ReceiverPhone,
    /// The buyer's GST registration.
    ReceiverGstNumber,
    /// The buyer's VAT registration.
    ReceiverVatNumber,
    /// The buyer's Australian Business Number.
    ReceiverAbnNumber,
    /// The buyer's Indian Permanent Account Number.
    ReceiverPanNumber,
    /// The date of the invoice or receipt.
    InvoiceReceiptDate,
    /// The number of the invoice or receipt.
    InvoiceReceiptId,
    /// A purchase order number.
    PoNumber,
    /// A customer number.
    CustomerNumber,
    /// When payment is due.
    DueDate,
    /// When the order was placed.
    OrderDate,
    /// When the goods were delivered.
    DeliveryDate,
    /// Payment terms (`Net 30`).
    PaymentTerms,
    /// The total.
    Total,
    /// The total before tax.
    Subtotal,
    /// The tax.
    Tax,
    /// A discount.
    Discount,
    /// A tip.
    Gratuity,
    /// A service charge.
    ServiceCharge,
    /// Shipping and handling.
    ShippingHandlingCharge,
    /// What was paid.
    AmountPaid,
    /// What is still owed.
    AmountDue,
    /// A balance brought forward.
    PriorBalance,
    /// A tax payer's identifier.
    TaxPayerId,
    // AnalyzeExpense line item cells.
    /// A line item's description.
    Item,
    /// A line item's quantity.
    Quantity,
    /// A line item's unit price.
    UnitPrice,
    /// A line item's amount.
    Price,
    /// A line item's product code.
    ProductCode,
    // Cheques.
    /// The cheque's number.
    CheckNumber,
    /// The cheque's date.
    CheckDate,
    /// Whom the cheque pays.
    Payee,
    /// The cheque's amount in figures.
    Amount,
    /// The cheque's amount in words.
    AmountInWords,
    /// The bank's routing (transit) number from the MICR band.
    RoutingNumber,
    /// The account number from the MICR band (or an invoice's account).
    AccountNumber,
    // Forms.
    /// A labelled value of a form; its label says what it is.
    KeyValue,
    /// A value AnalyzeExpense calls `OTHER`: labelled, but of no standard type.
    Other,
}

/// How a field's value is normalised.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ValueKind {
    /// A money amount: a decimal string with two decimals (`1234.56`), the currency beside it.
    Amount,
    /// A date: ISO 8601 (`2026-11-25`).
    Date,
    /// An amount written in words: a decimal string as for [`ValueKind::Amount`].
    Words,
    /// An identifier printed with separators: uppercase letters and digits, spaces and dashes out
    /// (`INV-0047 11` is `INV004711`).
    Identifier,
    /// A number of the MICR band or a cheque number: its digits.
    Digits,
    /// A quantity: a decimal number (`2`, `1.5`).
    Quantity,
    /// Text: whitespace collapsed.
    Text,
}

impl FieldType {
    /// How the type's values are normalised.
    pub const fn value_kind(self) -> ValueKind {
        match self {
            Self::Total
            | Self::Subtotal
            | Self::Tax
            | Self::Discount
            | Self::Gratuity
            | Self::ServiceCharge
            | Self::ShippingHandlingCharge
            | Self::AmountPaid
            | Self::AmountDue
            | Self::PriorBalance
            | Self::UnitPrice
            | Self::Price
            | Self::Amount => ValueKind::Amount,
            Self::InvoiceReceiptDate
            | Self::DueDate
            | Self::OrderDate
            | Self::DeliveryDate
            | Self::CheckDate => ValueKind::Date,
            Self::AmountInWords => ValueKind::Words,
            Self::InvoiceReceiptId
            | Self::PoNumber
            | Self::CustomerNumber
            | Self::VendorGstNumber
            | Self::VendorVatNumber
            | Self::VendorAbnNumber
            | Self::VendorPanNumber
            | Self::ReceiverGstNumber
            | Self::ReceiverVatNumber
            | Self::ReceiverAbnNumber
            | Self::ReceiverPanNumber
            | Self::TaxPayerId
            | Self::ProductCode => ValueKind::Identifier,
            Self::CheckNumber | Self::RoutingNumber | Self::AccountNumber => ValueKind::Digits,
            Self::Quantity => ValueKind::Quantity,
            _ => ValueKind::Text,
        }
    }

    /// The type's name as serialised (`VENDOR_NAME`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The type named `name` (`TOTAL`), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }
}
