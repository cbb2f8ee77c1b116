-- The index that forgets an image's bands leads with the image, not the owner: led by the owner,
-- SQLite took it for lookups too (it covers every column) and read all of an owner's bands for
-- each, instead of seeking the primary key's (owner, kind, band, value).
DROP INDEX fingerprint_bands_by_image;
CREATE INDEX fingerprint_bands_by_image ON fingerprint_bands (image_id, owner);
