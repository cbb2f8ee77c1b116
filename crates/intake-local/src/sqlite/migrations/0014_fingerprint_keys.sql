-- The fingerprint index's second layout (issue 27 at a million pages). A token's key is the 64-bit
-- hash of its kind and value (it was 16 bits: one key held hundreds of pages, a popular date
-- thousands); every key row carries its page's token count and hashes, so a lookup turns pages
-- away from the rows it reads, and the rows of one key are ordered by that count, so a lookup
-- reads only the counts the rule can flag; every token key keeps how many pages it holds (kept by
-- the triggers, in the same transaction), so a lookup reads only the rarest keys it needs. The
-- rows are computed from the fingerprints, not here: the index is emptied and its back-fill mark
-- taken away, so the server fills it again from the stored records when it next starts.
DROP TABLE fingerprint_bands;
DELETE FROM fingerprint_pages;
DELETE FROM fingerprint_backfill;
CREATE TABLE fingerprint_keys (
    owner    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    band     INTEGER NOT NULL,
    value    INTEGER NOT NULL,
    tokens   INTEGER NOT NULL,
    image_id BLOB NOT NULL,
    page     INTEGER NOT NULL,
    image    INTEGER,
    text     INTEGER,
    PRIMARY KEY (owner, kind, band, value, tokens, image_id, page)
) WITHOUT ROWID;
CREATE INDEX fingerprint_keys_by_image ON fingerprint_keys (image_id, owner);
CREATE TABLE fingerprint_key_pages (
    owner TEXT NOT NULL,
    band  INTEGER NOT NULL,
    value INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    PRIMARY KEY (owner, band, value)
) WITHOUT ROWID;
CREATE TRIGGER fingerprint_key_counted AFTER INSERT ON fingerprint_keys
WHEN NEW.kind = 'token'
BEGIN
    INSERT INTO fingerprint_key_pages (owner, band, value, pages)
    VALUES (NEW.owner, NEW.band, NEW.value, 1)
    ON CONFLICT (owner, band, value) DO UPDATE SET pages = pages + 1;
END;
CREATE TRIGGER fingerprint_key_uncounted AFTER DELETE ON fingerprint_keys
WHEN OLD.kind = 'token'
BEGIN
    UPDATE fingerprint_key_pages SET pages = pages - 1
    WHERE owner = OLD.owner AND band = OLD.band AND value = OLD.value;
    DELETE FROM fingerprint_key_pages
    WHERE owner = OLD.owner AND band = OLD.band AND value = OLD.value AND pages <= 0;
END;
