-- Documents' fields (issue 28): the kind a record's fields were read as (NULL while not read), and
-- one row per field key of a record (`TYPE=normalised value`, as the domain's field_keys makes them),
-- written in the same transaction as the record, so that listings filter on both through indexes.
ALTER TABLE images ADD COLUMN document_kind TEXT;
CREATE INDEX images_by_owner_kind ON images (owner, document_kind, image_id)
    WHERE document_kind IS NOT NULL;
CREATE TABLE image_fields (
    image_id BLOB NOT NULL,
    field    TEXT NOT NULL,
    owner    TEXT NOT NULL,
    PRIMARY KEY (image_id, field)
) WITHOUT ROWID;
CREATE INDEX image_fields_by_owner_field ON image_fields (owner, field, image_id);
-- Back-fill from the stored documents.
UPDATE images SET document_kind = json_extract(record, '$.documentType.type')
    WHERE json_extract(record, '$.documentType.type') IS NOT NULL;
INSERT OR IGNORE INTO image_fields (image_id, field, owner)
    SELECT images.image_id,
           json_extract(f.value, '$.type') || '=' || json_extract(f.value, '$.normalized'),
           images.owner
    FROM images, json_each(images.record, '$.fields') AS f
    WHERE json_extract(f.value, '$.normalized') IS NOT NULL;
