-- OCR lines (most of a processed record's size) apart from the record, so that listings and reads
-- without them neither load nor decode them.
ALTER TABLE images ADD COLUMN ocr_lines TEXT;
UPDATE images SET ocr_lines = json_extract(record, '$.ocrLines'), record = json_remove(record, '$.ocrLines')
    WHERE json_type(record, '$.ocrLines') IS NOT NULL;
