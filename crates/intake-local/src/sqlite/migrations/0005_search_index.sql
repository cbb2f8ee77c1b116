-- Full-text search (see `repository/search.rs`; the index is rebuilt on the domain's words by the
-- next migration): file names and OCR text in an FTS5 index that
-- triggers keep in step with the records, in the same transaction as every write. The index stores
-- no text of its own (contentless); its integer rows map to image ids through `image_text_rows`,
-- which also keeps the owner, status and SHA-256 a search filters on, so that ranking the hits
-- never reads a record. Deleted records are taken out of the index.
CREATE TABLE image_text_rows (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id BLOB NOT NULL UNIQUE,
    owner    TEXT NOT NULL,
    status   TEXT NOT NULL,
    sha256   TEXT
);
CREATE VIRTUAL TABLE image_text USING fts5(
    file_name, ocr_text,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER image_text_insert AFTER INSERT ON images BEGIN
    INSERT INTO image_text_rows (image_id, owner, status, sha256)
        VALUES (new.image_id, new.owner, new.status, new.sha256);
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT seq, json_extract(new.record, '$.fileName'),
               coalesce(json_extract(new.record, '$.ocrText'), '')
        FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
END;
CREATE TRIGGER image_text_facts AFTER UPDATE OF owner, status, sha256 ON images
WHEN old.owner IS NOT new.owner OR old.status IS NOT new.status OR old.sha256 IS NOT new.sha256
BEGIN
    UPDATE image_text_rows SET owner = new.owner, status = new.status, sha256 = new.sha256
        WHERE image_id = new.image_id;
END;
CREATE TRIGGER image_text_update AFTER UPDATE OF record, deleted ON images
WHEN old.deleted IS NOT new.deleted
  OR json_extract(old.record, '$.ocrText') IS NOT json_extract(new.record, '$.ocrText')
  OR json_extract(old.record, '$.fileName') IS NOT json_extract(new.record, '$.fileName')
BEGIN
    DELETE FROM image_text
        WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = new.image_id);
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT seq, json_extract(new.record, '$.fileName'),
               coalesce(json_extract(new.record, '$.ocrText'), '')
        FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
END;
CREATE TRIGGER image_text_delete AFTER DELETE ON images BEGIN
    DELETE FROM image_text
        WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = old.image_id);
    DELETE FROM image_text_rows WHERE image_id = old.image_id;
END;
INSERT INTO image_text_rows (image_id, owner, status, sha256)
    SELECT image_id, owner, status, sha256 FROM images ORDER BY image_id;
INSERT INTO image_text (rowid, file_name, ocr_text)
    SELECT t.seq, json_extract(i.record, '$.fileName'),
           coalesce(json_extract(i.record, '$.ocrText'), '')
    FROM images i JOIN image_text_rows t ON t.image_id = i.image_id
    WHERE i.deleted = 0;
