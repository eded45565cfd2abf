-- Results a region holds back while it may have been adopted by its peer (docs/architecture.md,
-- "Held results"): fenced, or its sync replication degraded, so the peer's replica may not know
-- of this completion. Region-local (not replicated). event_seq: null while the row waits in
-- SAFETY_PENDING unchecked; the seq of its committed verdict's event when that verdict was
-- committed as the hold began and its event is not published yet.
CREATE TABLE IF NOT EXISTS held_results (
  request_id text PRIMARY KEY,
  attempt    integer NOT NULL,
  reason     text NOT NULL,
  event_seq  bigint,
  held_at    timestamptz NOT NULL DEFAULT now()
);
