-- Upload tickets (records awaiting their upload) are indexed only once processing takes them, not
-- when `POST /uploads` writes them: most of a ticket's insert was its index work, and a ticket's
-- bytes may never come. `image_text_admit` indexes a record as it leaves `AWAITING_UPLOAD`.
DROP TRIGGER image_text_insert;
CREATE TRIGGER image_text_insert AFTER INSERT ON images WHEN new.status != 'AWAITING_UPLOAD' BEGIN
    INSERT INTO image_text_rows (image_id, owner, status, sha256)
        VALUES (new.image_id, new.owner, new.status, new.sha256);
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
               intake_words(json_extract(new.record, '$.ocrText'))
        FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
END;
CREATE TRIGGER image_text_admit AFTER UPDATE OF status ON images
WHEN old.status = 'AWAITING_UPLOAD' AND new.status != 'AWAITING_UPLOAD'
  AND NOT EXISTS (SELECT 1 FROM image_text_rows WHERE image_id = new.image_id)
BEGIN
    INSERT INTO image_text_rows (image_id, owner, status, sha256)
        VALUES (new.image_id, new.owner, new.status, new.sha256);
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
               intake_words(json_extract(new.record, '$.ocrText'))
        FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
END;
DELETE FROM image_text WHERE rowid IN
    (SELECT seq FROM image_text_rows WHERE status = 'AWAITING_UPLOAD');
DELETE FROM image_text_rows WHERE status = 'AWAITING_UPLOAD';
