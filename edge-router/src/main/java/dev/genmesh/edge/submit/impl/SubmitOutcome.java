package dev.genmesh.edge.submit.impl;

import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.RequestIds;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/**
 * How the edge reads a region's answer to a submit: what the client gets, and whether it says
 * anything about the region's health. Only a region that cannot be reached or answer in time,
 * or that says it is unavailable (502, 503, 504), counts as failing; an answer about the request
 * itself (4xx, or a 500 from a value the region could not handle) is final and leaves the
 * region healthy, so one bad request cannot mark every region down in turn. Pure.
 */
public enum SubmitOutcome {
  /** 2xx with a request view: the region took the request. */
  ACCEPTED(false, false),
  /** The region's answer about this request: the client gets it, no other region is tried. */
  FINAL(false, false),
  /** 503 {@code overloaded}: the region sheds this tier now; the next region is tried, this one stays healthy. */
  SHED(true, false),
  /** No answer, a timeout, 502/503/504, or a 2xx without a view: the region is failing; the next one is tried. */
  REGION_FAULT(true, true);

  private final boolean spills;
  private final boolean countsAgainstRegion;

  SubmitOutcome(boolean spills, boolean countsAgainstRegion) {
    this.spills = spills;
    this.countsAgainstRegion = countsAgainstRegion;
  }

  /** True when the next candidate region should get the request. */
  public boolean spills() {
    return spills;
  }

  /** True when the region should be marked unhealthy. */
  public boolean countsAgainstRegion() {
    return countsAgainstRegion;
  }

  public static SubmitOutcome of(AsyncResult<HttpResponse<Buffer>> answer) {
    if (answer.failed()) {
      return REGION_FAULT;
    }
    HttpResponse<Buffer> response = answer.result();
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return view(response) != null ? ACCEPTED : REGION_FAULT;
    }
    if (status == 503) {
      return ErrorCode.OVERLOADED.wireName().equals(code(response)) ? SHED : REGION_FAULT;
    }
    if (status == 502 || status == 504) {
      return REGION_FAULT;
    }
    return status >= 400 ? FINAL : REGION_FAULT;
  }

  /** The request view of a 2xx answer, or null when it has none with a well-formed id. */
  static JsonObject view(HttpResponse<Buffer> response) {
    JsonObject view = json(response);
    return view != null && view.getValue("id") instanceof String id && RequestIds.isWellFormed(id) ? view : null;
  }

  private static String code(HttpResponse<Buffer> response) {
    JsonObject body = json(response);
    return body != null && body.getValue("code") instanceof String code ? code : null;
  }

  private static JsonObject json(HttpResponse<Buffer> response) {
    try {
      return response.bodyAsJsonObject();
    } catch (RuntimeException notJson) {
      return null;
    }
  }
}
