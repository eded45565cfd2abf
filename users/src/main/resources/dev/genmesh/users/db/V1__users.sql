-- The user database (docs/security.md): its own database, never a region's request log.
-- users: an account and what it is entitled to. tiers: the tiers it may submit to.
-- gpu_seconds_per_month: the fast/turbo quota (null: unmetered); requests_per_second: its rate (null: the tier's).
CREATE TABLE users (
  id                    text PRIMARY KEY,
  tiers                 text[] NOT NULL,
  requests_per_second   double precision,
  gpu_seconds_per_month bigint,
  disabled_at           timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now()
);

-- api_keys: only the SHA-256 of a key is kept (keys are 256 random bits: no salt or slow hash needed).
-- id is the key's public part (it appears in the key itself), for listing and revoking.
-- tiers: the key's scope (null: every tier its user has); admin: may use /v1/admin.
CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id),
  key_sha256  text NOT NULL UNIQUE,
  tiers       text[],
  admin       boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

-- generations: each user's requests across regions, written by the edge that accepted the submit;
-- status is the last one an edge saw. Ownership itself is the region's request row (user_id).
-- user_id has no foreign key: the local mode's anonymous caller has no account.
CREATE TABLE generations (
  id          text PRIMARY KEY,
  user_id     text NOT NULL,
  region      text NOT NULL,
  tier        text NOT NULL,
  status      text NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX generations_user_idx ON generations (user_id, created_at DESC, id DESC);
