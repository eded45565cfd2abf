-- Issue 13: adoption of a peer region's requests when it is declared down, and fail-back
-- (docs/architecture.md, "Replication and adoption").
-- adopted_from: in the adopter's log, the region whose request this was (its id keeps that region's code).
-- adopted_by: in the origin's log, the region that adopted it (status ADOPTED: terminal here, the
--   adopter runs it and answers for it).
ALTER TABLE requests
  ADD COLUMN adopted_from text,
  ADD COLUMN adopted_by   text;

-- One row per request this region adopted: a second decision (or trigger) adopts nothing twice,
-- and a returning origin reads here which of its requests are the adopter's now.
CREATE TABLE adoptions (
  request_id  text PRIMARY KEY,
  from_region text NOT NULL,
  reason      text NOT NULL,
  decided_at  timestamptz,
  adopted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX adoptions_from_idx ON adoptions (from_region);
