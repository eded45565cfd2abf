-- The W3C traceparent of the submit that created the request (null: not traced). The worker's
-- spans of every attempt join that trace (docs/architecture.md, "Tracing"); it travels with the
-- replica, so an adopting region's attempts join it too.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS trace_parent text;
