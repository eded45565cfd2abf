-- The GPU time the worker reported for the attempt whose images a request holds (its share of the
-- batch), in ms: what the edge meters against a user's fast/turbo GPU-seconds (docs/security.md).
ALTER TABLE requests ADD COLUMN IF NOT EXISTS gpu_ms bigint;
