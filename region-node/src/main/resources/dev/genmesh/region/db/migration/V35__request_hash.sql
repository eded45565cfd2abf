-- What an idempotency key was first used for: SHA-256 (hex) of the caller and the request body
-- (dev.genmesh.protocol.RequestHash). A later submit with the same key and another hash is
-- answered 422 idempotency_key_reused. Null for rows written before this column, and for
-- submits without a key.
ALTER TABLE requests ADD COLUMN request_hash text;
