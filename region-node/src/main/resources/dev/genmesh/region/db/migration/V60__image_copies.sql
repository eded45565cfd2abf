-- Issue 13 item 7: copies of completed requests' images in another region's store
-- (docs/architecture.md, "Images across regions").
-- images_copied_at: when the published images and their manifest were written to the holding
--   region's bucket of copies; NULL while not yet (or never, when no region holds copies).
-- images_copy_until: a node copying the request holds it until then (FOR UPDATE SKIP LOCKED
--   shares the work between the region's nodes; a node that dies mid-copy lets it go).
ALTER TABLE requests
  ADD COLUMN images_copied_at  timestamptz,
  ADD COLUMN images_copy_until timestamptz;

-- Completed before images were objects: nothing to copy.
UPDATE requests SET images_copied_at = now() WHERE status = 'COMPLETED' AND images IS NULL;

-- The copier reads completed, uncopied rows, oldest completion first.
CREATE INDEX requests_images_uncopied_idx ON requests (completed_at, id)
  WHERE status = 'COMPLETED' AND images_copied_at IS NULL;
