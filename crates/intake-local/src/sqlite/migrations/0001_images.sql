-- The image records: each a JSON document, with the columns lists filter on.
CREATE TABLE images (
    image_id BLOB PRIMARY KEY NOT NULL,
    version  INTEGER NOT NULL,
    status   TEXT NOT NULL,
    sha256   TEXT,
    deleted  INTEGER NOT NULL DEFAULT 0,
    record   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX images_by_status ON images (status, image_id);
CREATE INDEX images_by_sha256 ON images (sha256, image_id) WHERE sha256 IS NOT NULL;
