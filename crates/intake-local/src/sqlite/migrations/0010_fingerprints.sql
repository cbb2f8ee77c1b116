-- Near-duplicate fingerprints (see `fingerprints.rs`): each image's pages, their fingerprints as
-- JSON, and one row per band of each page's hashes, found by an exact (owner, kind, band, value)
-- lookup; the second index forgets an image's bands without reading its pages.
CREATE TABLE fingerprint_pages (
    owner       TEXT NOT NULL,
    image_id    BLOB NOT NULL,
    page        INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (owner, image_id, page)
) WITHOUT ROWID;
CREATE TABLE fingerprint_bands (
    owner    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    band     INTEGER NOT NULL,
    value    INTEGER NOT NULL,
    image_id BLOB NOT NULL,
    page     INTEGER NOT NULL,
    PRIMARY KEY (owner, kind, band, value, image_id, page)
) WITHOUT ROWID;
CREATE INDEX fingerprint_bands_by_image ON fingerprint_bands (owner, image_id);
