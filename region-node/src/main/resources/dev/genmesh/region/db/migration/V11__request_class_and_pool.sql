-- Issue 6: the autoscaler's observation per request class and per pool (docs/autoscaling.md,
-- "In the region node").
-- request_class: the routing class (Routing.requestClass) at submit, and again when a fallback
--   moves the request to another model; NULL = any GPU may serve it (or a row older than V11).
-- gpu_class: the GPU class of the worker that claimed the current attempt (a pool's measured
--   service time groups completed requests by it).
ALTER TABLE requests
  ADD COLUMN request_class text,
  ADD COLUMN gpu_class     text;

-- Arrivals per minute and the demand per model read recent rows by created_at;
-- the service time reads recently completed ones.
CREATE INDEX requests_created_idx ON requests (created_at);
CREATE INDEX requests_completed_idx ON requests (completed_at) WHERE status = 'COMPLETED';
