-- Issue 5: the safety gate. A finished request waits in SAFETY_PENDING until the Safety API
-- answers (region-node/SAFETY.md); these columns let any node of the region pick it up again.
-- safety_pending_at: when it entered SAFETY_PENDING (the region's clock), for the too-long alert.
-- safety_next_check_at: when a node may check it next; a node that takes it moves this forward
--   first, so that two nodes do not check the same request at once.
-- safety_reason: what the user is told while it waits (the last safety_pending event's reason).
-- safety_alerted_at: set once by the node that raised the "pending too long" alert.
ALTER TABLE requests
  ADD COLUMN safety_pending_at    timestamptz,
  ADD COLUMN safety_next_check_at timestamptz,
  ADD COLUMN safety_reason        text,
  ADD COLUMN safety_alerted_at    timestamptz;

-- The sweeper reads the due SAFETY_PENDING rows only.
CREATE INDEX requests_safety_pending_idx ON requests (safety_next_check_at, id) WHERE status = 'SAFETY_PENDING';
