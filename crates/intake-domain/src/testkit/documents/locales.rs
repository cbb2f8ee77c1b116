//! How five locales print money, dates and labels.

use crate::model::DateOrder;

/// A locale's printing conventions and vocabulary.
#[derive(Clone, Copy, Debug)]
pub struct Locale {
    /// Its code (`en-US`).
    pub code: &'static str,
    /// The day/month order of its dates.
    pub date_order: DateOrder,
    /// The currency as printed before (`$`, `RM`) an amount, or after it (`€`).
    pub currency: &'static str,
    /// Whether the currency follows the amount.
    pub currency_after: bool,
    /// Whether the decimal separator is a comma (`12,50`).
    pub decimal_comma: bool,
    /// The date separator (`/`, `.`).
    pub date_separator: char,
    /// The currency's name on a cheque's words line, for the locales that write cheques.
    pub currency_word: Option<&'static str>,
    /// Labels: total, subtotal, tax (with its rate), date, receipt number, invoice number, due date,
    /// bill to, paid, change.
    pub labels: Labels,
    /// The receipt's and the invoice's titles.
    pub titles: (&'static str, &'static str),
    /// The tax rate in percent.
    pub tax_percent: i64,
    /// Vendors, with two address lines each.
    pub vendors: [(&'static str, &'static str, &'static str); 4],
    /// Customers of invoices, with two address lines each.
    pub customers: [(&'static str, &'static str, &'static str); 2],
    /// Goods and their prices in cents.
    pub goods: [(&'static str, i64); 6],
    /// A closing line of a receipt.
    pub thanks: &'static str,
}

/// The labels a locale prints.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct Labels {
    pub total: &'static str,
    pub subtotal: &'static str,
    pub tax: &'static str,
    pub date: &'static str,
    pub receipt_no: &'static str,
    pub invoice_no: &'static str,
    pub due: &'static str,
    pub bill_to: &'static str,
    pub paid: &'static str,
    pub change: &'static str,
}

impl Locale {
    /// `cents` with the locale's decimal separator and grouping, no currency (`1,234.56`,
    /// `1.234,56`).
    pub fn number(&self, cents: i64) -> String {
        let (units, cents) = (cents / 100, cents % 100);
        let digits = units.to_string();
        let group = if self.decimal_comma { '.' } else { ',' };
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(group);
            }
            grouped.push(c);
        }
        let decimal = if self.decimal_comma { ',' } else { '.' };
        format!("{grouped}{decimal}{cents:02}")
    }

    /// `cents` with the currency (`$1,234.56`, `RM 12.00`, `12,50 €`).
    pub fn money(&self, cents: i64) -> String {
        if self.currency_after {
            format!("{} {}", self.number(cents), self.currency)
        } else if self.currency.chars().all(char::is_alphabetic) {
            format!("{} {}", self.currency, self.number(cents))
        } else {
            format!("{}{}", self.currency, self.number(cents))
        }
    }

    /// A date in the locale's order and separator (`11/25/2026`, `25.11.2026`).
    pub fn date(&self, year: i32, month: u32, day: u32) -> String {
        let s = self.date_separator;
        match self.date_order {
            DateOrder::MonthFirst => format!("{month:02}{s}{day:02}{s}{year}"),
            _ => format!("{day:02}{s}{month:02}{s}{year}"),
        }
    }
}

/// The five locales.
pub const LOCALES: [Locale; 5] = [
    Locale {
        code: "en-US",
        date_order: DateOrder::MonthFirst,
        currency: "$",
        currency_after: false,
        decimal_comma: false,
        date_separator: '/',
        currency_word: Some("DOLLARS"),
        labels: Labels {
            total: "TOTAL",
            subtotal: "Subtotal",
            tax: "Sales Tax 8%",
            date: "Date:",
            receipt_no: "Receipt #",
            invoice_no: "Invoice #",
            due: "Due Date:",
            bill_to: "Bill To:",
            paid: "Visa",
            change: "Change",
        },
        titles: ("SALES RECEIPT", "INVOICE"),
        tax_percent: 8,
        vendors: [
            (
                "Blue Door Diner",
                "410 Main Street",
                "Springfield, IL 62701",
            ),
            ("Harbor Hardware", "22 Dock Road", "Portland, ME 04101"),
            (
                "Pacific Office Supply",
                "1800 Mission Blvd",
                "San Diego, CA 92101",
            ),
            ("Maple Leaf Bakery", "7 Church Lane", "Burlington, VT 05401"),
        ],
        customers: [
            (
                "Riverside Dental Group",
                "55 River Road",
                "Albany, NY 12207",
            ),
            ("Summit Realty LLC", "900 Peak Avenue", "Denver, CO 80202"),
        ],
        goods: [
            ("Coffee large", 325),
            ("Blueberry muffin", 295),
            ("Copy paper A4 box", 3499),
            ("Hex bolts M8 pack", 1250),
            ("Printer toner black", 8900),
            ("Desk lamp LED", 4275),
        ],
        thanks: "Thank you for shopping with us",
    },
    Locale {
        code: "en-MY",
        date_order: DateOrder::DayFirst,
        currency: "RM",
        currency_after: false,
        decimal_comma: false,
        date_separator: '/',
        currency_word: Some("RINGGIT"),
        labels: Labels {
            total: "TOTAL",
            subtotal: "SUB TOTAL",
            tax: "SST 6%",
            date: "Tarikh:",
            receipt_no: "Resit No:",
            invoice_no: "Invoice No:",
            due: "Due Date:",
            bill_to: "Bill To:",
            paid: "Tunai",
            change: "Baki",
        },
        titles: ("RESIT", "TAX INVOICE"),
        tax_percent: 6,
        vendors: [
            (
                "Kedai Runcit Aminah",
                "12 Jalan Bunga Raya",
                "50450 Kuala Lumpur",
            ),
            ("Restoran Seri Melaka", "8 Jalan Hang Tuah", "75300 Melaka"),
            (
                "Syarikat Elektrik Jaya",
                "23 Lorong Perak",
                "10150 George Town",
            ),
            ("Kopitiam Lama", "5 Jalan Sultan", "80000 Johor Bahru"),
        ],
        customers: [
            (
                "Tan Brothers Sdn Bhd",
                "18 Jalan Ampang",
                "50450 Kuala Lumpur",
            ),
            ("Klinik Sejahtera", "3 Jalan Dato Onn", "80000 Johor Bahru"),
        ],
        goods: [
            ("Nasi lemak ayam", 850),
            ("Teh tarik", 250),
            ("Kabel elektrik 10m", 4590),
            ("Suis lampu", 1280),
            ("Mentol LED 12W", 990),
            ("Roti canai", 180),
        ],
        thanks: "Terima kasih",
    },
    Locale {
        code: "de-DE",
        date_order: DateOrder::DayFirst,
        currency: "€",
        currency_after: true,
        decimal_comma: true,
        date_separator: '.',
        currency_word: None,
        labels: Labels {
            total: "Summe",
            subtotal: "Zwischensumme",
            tax: "MwSt. 19%",
            date: "Datum:",
            receipt_no: "Beleg Nr.",
            invoice_no: "Rechnungsnummer:",
            due: "Zahlbar bis:",
            bill_to: "Rechnungsempfänger:",
            paid: "Bar",
            change: "Rückgeld",
        },
        titles: ("KASSENBON", "RECHNUNG"),
        tax_percent: 19,
        vendors: [
            ("Bäckerei Sonnenschein", "Hafenstraße 12", "20457 Hamburg"),
            ("Eisenwaren Krüger", "Lindenallee 4", "80331 München"),
            (
                "Buchhandlung Seitenweise",
                "Marktplatz 9",
                "69117 Heidelberg",
            ),
            ("Café am Dom", "Domplatz 2", "50667 Köln"),
        ],
        customers: [
            ("Müller und Sohn KG", "Bahnhofstraße 7", "10115 Berlin"),
            ("Praxis Dr. Weber", "Rosenweg 3", "70173 Stuttgart"),
        ],
        goods: [
            ("Roggenbrot", 390),
            ("Milchkaffee", 340),
            ("Schrauben M8", 1200),
            ("Scharniere Messing", 3000),
            ("Taschenbuch Roman", 1299),
            ("Apfelkuchen", 280),
        ],
        thanks: "Vielen Dank für Ihren Einkauf",
    },
    Locale {
        code: "en-GB",
        date_order: DateOrder::DayFirst,
        currency: "£",
        currency_after: false,
        decimal_comma: false,
        date_separator: '/',
        currency_word: Some("POUNDS"),
        labels: Labels {
            total: "Total",
            subtotal: "Subtotal",
            tax: "VAT 20%",
            date: "Date:",
            receipt_no: "Receipt No:",
            invoice_no: "Invoice No:",
            due: "Payment due:",
            bill_to: "Invoice to:",
            paid: "Card",
            change: "Change",
        },
        titles: ("RECEIPT", "INVOICE"),
        tax_percent: 20,
        vendors: [
            ("The Crown and Anchor", "14 Quay Street", "Bristol BS1 4DA"),
            ("Highgate Stationers", "88 High Street", "London N6 5JL"),
            ("Fenwick Garden Centre", "Mill Lane", "York YO1 7HF"),
            ("Corner Cafe", "2 Market Square", "Leeds LS1 6DT"),
        ],
        customers: [
            ("Ashford Surveyors Ltd", "31 Station Road", "Kent TN23 1PP"),
            ("Greenway Lettings", "6 Park Row", "Leeds LS1 5HD"),
        ],
        goods: [
            ("Flat white", 340),
            ("Ploughmans lunch", 895),
            ("A4 notebooks x10", 1450),
            ("Fountain pen", 2400),
            ("Rose bush", 1299),
            ("Compost 40L", 650),
        ],
        thanks: "Thank you for visiting",
    },
    Locale {
        code: "fr-FR",
        date_order: DateOrder::DayFirst,
        currency: "€",
        currency_after: true,
        decimal_comma: true,
        date_separator: '/',
        currency_word: None,
        labels: Labels {
            total: "Total TTC",
            subtotal: "Total HT",
            tax: "TVA 20%",
            date: "Date :",
            receipt_no: "Ticket No",
            invoice_no: "Facture N°",
            due: "Échéance :",
            bill_to: "Facturé à :",
            paid: "Espèces",
            change: "Rendu",
        },
        titles: ("TICKET DE CAISSE", "FACTURE"),
        tax_percent: 20,
        vendors: [
            ("Boulangerie Dupont", "12 rue de la Paix", "75002 Paris"),
            ("Quincaillerie Martin", "4 avenue Foch", "69006 Lyon"),
            ("Librairie du Port", "9 quai des Belges", "13001 Marseille"),
            ("Le Petit Bistrot", "3 place du Marché", "33000 Bordeaux"),
        ],
        customers: [
            ("Cabinet Lefèvre", "21 boulevard Victor Hugo", "06000 Nice"),
            ("SARL Moreau", "7 rue Nationale", "59000 Lille"),
        ],
        goods: [
            ("Baguette tradition", 130),
            ("Croissant beurre", 120),
            ("Vis inox 50 pcs", 890),
            ("Charnières laiton", 2450),
            ("Roman poche", 850),
            ("Café crème", 320),
        ],
        thanks: "Merci de votre visite",
    },
];
