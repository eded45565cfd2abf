package dev.genmesh.images;

import java.time.Instant;

/**
 * What the store says about one object.
 *
 * @param etag the store's entity tag, quotes removed (an MD5 for a single PUT on S3; opaque)
 * @param lastModified when it was written; null when the call did not say
 */
public record ObjectInfo(String key, long size, String etag, Instant lastModified) {}
