-- Issue 12: finished images live in the region's object store (docs/architecture.md, "Images").
-- images: the objects of the attempt that reached SAFETY_PENDING, [{key, size, sha256}] in image
--   order (keys <id>/<attempt>/<index>.png). Recorded by the compare-and-set that holds the attempt,
--   so only one attempt's objects are ever recorded; they are served once the row is COMPLETED.
-- images_swept_at: when the image sweeper deleted the request's other objects (attempts that were
--   never published, or all of them for a request that did not complete), once it had ended longer
--   than images.orphan_grace_ms ago.
ALTER TABLE requests
  ADD COLUMN images          jsonb,
  ADD COLUMN images_swept_at timestamptz;

-- Requests that ended before this migration kept their images on a node's disk: nothing to sweep.
UPDATE requests SET images_swept_at = now() WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED');

-- The sweeper reads ended, unswept rows, oldest first.
CREATE INDEX requests_images_unswept_idx ON requests (updated_at, id)
  WHERE images_swept_at IS NULL AND status IN ('COMPLETED', 'FAILED', 'CANCELLED');
