-- Owners (record schema 2). Records from before owners existed go to the local admin owner.
ALTER TABLE images ADD COLUMN owner TEXT NOT NULL DEFAULT 'admin';
UPDATE images SET record = json_set(record, '$.owner', 'admin', '$.schemaVersion', 2)
    WHERE json_extract(record, '$.owner') IS NULL;
CREATE INDEX images_by_owner ON images (owner, image_id);
CREATE INDEX images_by_owner_sha256 ON images (owner, sha256, image_id) WHERE sha256 IS NOT NULL;
DROP INDEX images_by_sha256;
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    record TEXT NOT NULL
) WITHOUT ROWID;
