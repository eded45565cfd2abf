-- Every progress event of a request, numbered 1, 2, 3... so a stream resumes "after seq N".
CREATE TABLE request_events (
  request_id text NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
  seq        bigint NOT NULL,
  type       text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, seq)
);
