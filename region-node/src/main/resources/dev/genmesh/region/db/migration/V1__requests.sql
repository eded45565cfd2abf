-- The request log: one row per generation request, the source of truth (docs/architecture.md, I1 and I2).
-- status holds RequestStatus names (QUEUED, ...); tier holds Tier wire names (turbo, fast, relax).
-- last_event_seq numbers the request's events: every event bumps it in the same statement
-- that changes the row, so the row lock serialises event numbers.
CREATE TABLE requests (
  id              text PRIMARY KEY,
  idempotency_key text UNIQUE,
  tier            text NOT NULL,
  model           text NOT NULL,
  spec            jsonb NOT NULL,
  status          text NOT NULL,
  priority        integer NOT NULL DEFAULT 0,
  attempt         integer NOT NULL DEFAULT 0,
  retry_count     integer NOT NULL DEFAULT 0,
  worker_id       text,
  error_code      text,
  error_message   text,
  image_count     integer,
  last_event_seq  bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  queued_at       timestamptz,
  assigned_at     timestamptz,
  started_at      timestamptz,
  completed_at    timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The queue rebuild and the lease checks read the open requests only.
CREATE INDEX requests_open_idx ON requests (status, id)
  WHERE status IN ('QUEUED', 'ASSIGNED', 'GENERATING', 'SAFETY_PENDING');
