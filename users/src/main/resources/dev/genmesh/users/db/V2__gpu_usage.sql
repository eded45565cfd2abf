-- GPU-seconds per month for fast and turbo (docs/security.md): each generation's GPU time as its
-- region reported it once it completed (null until then; failed and cancelled ones stay null: a
-- user is not charged for them). users.gpu_seconds_per_month (V1) overrides the configured quota.
ALTER TABLE generations ADD COLUMN gpu_ms bigint;
CREATE INDEX generations_metered_idx ON generations (user_id, created_at) WHERE tier IN ('fast', 'turbo');
