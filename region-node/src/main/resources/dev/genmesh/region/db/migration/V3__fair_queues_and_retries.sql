-- Issue 3: per-user fairness, retries with backoff and routing hints, cancellation.
-- user_id: whose request it is (start-time fair queueing inside a tier).
-- not_before: a retried request waits in Redis' delayed set until then; a rebuild honours it.
-- assigned_vram_mb: the free VRAM the worker reported in its claim (an OOM retry wants more).
-- hint_min_vram_mb / excluded_workers: the larger_vram and different_worker routing hints.
ALTER TABLE requests
  ADD COLUMN user_id          text NOT NULL DEFAULT 'anonymous',
  ADD COLUMN not_before       timestamptz,
  ADD COLUMN assigned_vram_mb bigint,
  ADD COLUMN hint_min_vram_mb bigint,
  ADD COLUMN excluded_workers text[] NOT NULL DEFAULT '{}';

-- The rebuild re-queues each tier oldest first; the queue metrics read each tier's oldest.
CREATE INDEX requests_queued_idx ON requests (tier, queued_at, id) WHERE status = 'QUEUED';
