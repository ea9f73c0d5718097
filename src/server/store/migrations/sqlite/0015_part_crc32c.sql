-- Parts checked by CRC32C instead of SHA-256 (the whole file's SHA-256 is verified on
-- completion either way, so each side hashes the file once). Such a part's sha256 is '' and
-- crc32c holds its CRC32C (8 lowercase hex digits). tag is the last segment of the part's
-- object key: a value unique to that receipt of the part (NULL: the key ends with the part's
-- SHA-256, as before), so the bytes behind a recorded part never change under a reader.
-- A binary whose uploader names its SHA-256 on completion has sha256 '' until then.
ALTER TABLE binary_parts ADD COLUMN crc32c TEXT;
ALTER TABLE binary_parts ADD COLUMN tag TEXT;
