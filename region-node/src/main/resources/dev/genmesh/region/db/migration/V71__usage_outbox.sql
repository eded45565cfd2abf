-- Usage events at least once (docs/event-bus.md): a finished request's event is published after
-- the commit and marked here; a sweep re-publishes finished requests left unmarked (the node died
-- in between). Requests finished before this version count as published.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS usage_published_at timestamptz;
UPDATE requests SET usage_published_at = updated_at
  WHERE status IN ('COMPLETED', 'FAILED') AND usage_published_at IS NULL;
CREATE INDEX IF NOT EXISTS requests_usage_unpublished_idx ON requests (updated_at)
  WHERE usage_published_at IS NULL AND status IN ('COMPLETED', 'FAILED');
