-- Issue 6: every autoscaling decision, so "why did it scale at 10:02?" is one query
-- (docs/autoscaling.md, "Decision records"). One row per change of a pool's target.
-- reason: the trigger's name (turbo_depth, predicted_high, ...) or replacement / tier_minimums /
-- min_workers / max_workers / pool_bounds; driver: trigger, forecast, schedule, replacement,
-- constraint. record holds the whole ScalingDecision JSON (all signals, forecast, model plan).
-- Numbered V10 on purpose: versions V4-V9 are left to concurrent changes; the loader allows gaps.
CREATE TABLE scaling_decisions (
  id              bigserial PRIMARY KEY,
  decided_at      timestamptz NOT NULL,
  region          text NOT NULL,
  pool            text NOT NULL,
  from_count      integer NOT NULL,
  to_count        integer NOT NULL,
  reason          text NOT NULL,
  driver          text NOT NULL,
  signal          text,
  value           double precision,
  threshold       double precision,
  held_ms         bigint NOT NULL DEFAULT 0,
  forecast_source text,
  forecast_qps    double precision,
  record          jsonb NOT NULL,
  -- The policy decides a pool at most once per kind per evaluation; a re-delivered record is a no-op.
  UNIQUE (region, pool, decided_at, reason)
);

CREATE INDEX scaling_decisions_time_idx ON scaling_decisions (decided_at);
