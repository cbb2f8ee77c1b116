-- The index holds the domain's words (`intake_words`, see `register_functions` in `schema.rs`),
-- cut apart at spaces only, so that SQLite finds exactly what the domain's word rule says
-- (ligatures, full-width letters, every script's combining marks) and a search's words are its
-- terms' words.
DROP TRIGGER image_text_insert;
DROP TRIGGER image_text_update;
DROP TRIGGER image_text_delete;
DROP TABLE image_text;
CREATE VIRTUAL TABLE image_text USING fts5(
    file_name, ocr_text,
    content = '', contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M* P* S* Co'"
);
CREATE TRIGGER image_text_insert AFTER INSERT ON images BEGIN
    INSERT INTO image_text_rows (image_id, owner, status, sha256)
        VALUES (new.image_id, new.owner, new.status, new.sha256);
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
               intake_words(json_extract(new.record, '$.ocrText'))
        FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
END;
CREATE TRIGGER image_text_update AFTER UPDATE OF record, deleted ON images
WHEN old.deleted IS NOT new.deleted
  OR json_extract(old.record, '$.ocrText') IS NOT json_extract(new.record, '$.ocrText')
  OR json_extract(old.record, '$.fileName') IS NOT json_extract(new.record, '$.fileName')
BEGIN
    DELETE FROM image_text
        WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = new.image_id);
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
               intake_words(json_extract(new.record, '$.ocrText'))
        FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
END;
CREATE TRIGGER image_text_delete AFTER DELETE ON images BEGIN
    DELETE FROM image_text
        WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = old.image_id);
    DELETE FROM image_text_rows WHERE image_id = old.image_id;
END;
INSERT INTO image_text (rowid, file_name, ocr_text)
    SELECT t.seq, intake_words(json_extract(i.record, '$.fileName')),
           intake_words(json_extract(i.record, '$.ocrText'))
    FROM images i JOIN image_text_rows t ON t.image_id = i.image_id
    WHERE i.deleted = 0;
