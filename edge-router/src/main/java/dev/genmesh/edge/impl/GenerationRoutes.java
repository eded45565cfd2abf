package dev.genmesh.edge.impl;

import dev.genmesh.edge.access.impl.AccessRoutes;
import dev.genmesh.edge.access.impl.Caller;
import dev.genmesh.edge.access.impl.GenerationIndex;
import dev.genmesh.edge.access.impl.GpuQuotas;
import dev.genmesh.edge.access.impl.RateLimiter;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.edge.submit.impl.Echo;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.edge.submit.impl.SubmissionForwarder;
import dev.genmesh.edge.submit.impl.SubmitBody;
import dev.genmesh.edge.submit.impl.Validation;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.Tier;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.AsyncResult;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code POST /v1/generations} (validate, pick a region, forward) and {@code GET /v1/generations/{id}}. */
public final class GenerationRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(GenerationRoutes.class);
  /** The code of a region's error answer that carried none: {@code region_<status>}. */
  private static final String REGION_CODE_PREFIX = "region_";

  private final RequestValidator validator;
  private final WorkerExecutor blocking;
  private final SubmissionForwarder forwarder;
  private final RegionDirectory regions;
  private final EdgeMetrics metrics;
  private final long retryAfterSeconds;
  private final GenerationIndex index;
  private final RateLimiter limiter;
  private final GpuQuotas quotas;

  /**
   * @param index told of every accepted submit (its owner) and every view read
   * @param limiter each submit takes one from its caller's bucket of its tier (429 when empty)
   * @param blocking where a submit with a control image is validated (its base64 is up to MBs) */
  public GenerationRoutes(
      RequestValidator validator, WorkerExecutor blocking, SubmissionForwarder forwarder, RegionDirectory regions,
      EdgeMetrics metrics, long retryAfterSeconds, GenerationIndex index, RateLimiter limiter, GpuQuotas quotas) {
    this.quotas = quotas;
    this.validator = validator;
    this.blocking = blocking;
    this.forwarder = forwarder;
    this.regions = regions;
    this.metrics = metrics;
    this.retryAfterSeconds = retryAfterSeconds;
    this.index = index;
    this.limiter = limiter;
  }

  public void submit(RoutingContext ctx) {
    if (ctx.response().ended()) {
      return; // answered already: the body came too late (ReadDeadlines.bodyDue)
    }
    Timer.Sample timer = metrics.startSubmit();
    SubmitBody.Parsed parsed = SubmitBody.parse(ctx.body().buffer());
    if (!parsed.ok()) {
      reject(ctx, timer, null, parsed.error());
      return;
    }
    JsonObject body = parsed.body();
    List<String> keys = ctx.request().headers().getAll(RequestValidator.IDEMPOTENCY_HEADER);
    if (keys.size() > 1) {
      reject(ctx, timer, tierTag(body), ApiError.onField(ErrorCode.INVALID_FIELD, RequestValidator.IDEMPOTENCY_HEADER,
          RequestValidator.IDEMPOTENCY_HEADER + " must be sent once; it was sent " + keys.size() + " times"));
      return;
    }
    String idempotencyKey = keys.isEmpty() ? null : keys.get(0);
    String user = AccessRoutes.caller(ctx).user();
    if (body.getValue("control_image") == null) {
      submitValidated(ctx, timer, body, validator.validate(body, idempotencyKey, user));
      return;
    }
    // Decoding and checking a control image (base64, up to MBs) is not event-loop work.
    blocking.executeBlocking(() -> validator.validate(body, idempotencyKey, user), false).onComplete(validated -> {
      // A failure is a defect, or the pool closed while the edge stops: 500, as if thrown by the handler.
      if (validated.failed()) {
        ctx.fail(validated.cause());
        return;
      }
      try {
        submitValidated(ctx, timer, body, validated.result());
      } catch (RuntimeException e) {
        ctx.fail(e);
      }
    });
  }

  private void submitValidated(RoutingContext ctx, Timer.Sample timer, JsonObject body, Validation request) {
    if (!request.isValid()) {
      reject(ctx, timer, tierTag(body), request.error());
      return;
    }
    String tier = request.spec().tier().wireName();
    Caller caller = AccessRoutes.caller(ctx);
    if (!caller.mayUse(tier)) {
      reject(ctx, timer, tier, ApiError.onField(ErrorCode.FORBIDDEN, "tier", "this API key may not use the " + tier
          + " tier (it may use " + String.join(", ", caller.tiers()) + ")"));
      return;
    }
    String logRef = request.idempotencyKey() != null
        ? "key=" + request.idempotencyKey()
        : "ref=" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    String user = caller.user();
    limiter.take(user, tier).onSuccess(decision -> {
      decision.putHeaders(ctx.response());
      if (!decision.allowed()) {
        reject(ctx, timer, tier, ApiError.of(ErrorCode.RATE_LIMITED, "more " + tier + " submits than this key's rate ("
            + decision.limit() + " at once, then a steady rate); retry after " + decision.retryAfterSeconds() + " s"));
        return;
      }
      quotas.admit(user, tier).onSuccess(admission -> {
        quotas.putHeaders(admission, ctx.response());
        if (!admission.allowed()) {
          LOG.debug("submit {} of {}: GPU quota of the month used", logRef, user);
          metrics.rejected(tier, ErrorCode.GPU_QUOTA_EXCEEDED.wireName());
          metrics.stopSubmit(timer, "rejected");
          JsonReplies.json(ctx, 429, GpuQuotas.refusal(admission, tier));
          return;
        }
        forwarder.forward(request, user, logRef, admission.priority())
            .onComplete(answer -> answer(ctx, timer, tier, logRef, request, answer));
      });
    });
  }

  /** The body handler refused the body (too large): answer JSON, and count it like any rejection. */
  public void submitFailed(RoutingContext ctx) {
    if (ctx.response().ended()) {
      return; // the body deadline answered 408 and closed the connection
    }
    if (ctx.statusCode() == 413) {
      reject(ctx, metrics.startSubmit(), null,
          ApiError.of(ErrorCode.BODY_TOO_LARGE, "the body is larger than this edge accepts"));
    } else {
      ctx.next();
    }
  }

  private void answer(
      RoutingContext ctx, Timer.Sample timer, String tier, String logRef, Validation request,
      AsyncResult<SubmissionForwarder.Forwarded> answer) {
    if (answer.failed()) {
      long wait = answer.cause() instanceof SubmissionForwarder.NoRegionAvailable none
          ? none.retryAfterSeconds() : retryAfterSeconds;
      boolean overloaded = answer.cause() instanceof SubmissionForwarder.NoRegionAvailable none && none.overloaded();
      ErrorCode code = overloaded ? ErrorCode.OVERLOADED : ErrorCode.REGION_UNAVAILABLE;
      LOG.warn("request {} ({}): answering 503, {}", logRef, tier, answer.cause().getMessage());
      metrics.unavailable(tier, code.wireName());
      metrics.stopSubmit(timer, "unavailable");
      JsonReplies.unavailable(ctx, code, overloaded
          ? "every region is shedding " + tier + " requests now (too many recent failures); retry later"
          : "no region can take the request now; retry later", wait);
      return;
    }
    SubmissionForwarder.Forwarded forwarded = answer.result();
    if (!forwarded.accepted()) {
      HttpResponse<Buffer> response = forwarded.response();
      String code = regionErrorCode(response);
      if (response.statusCode() >= 500) {
        // The region failed on this request only (it answers 502/503/504 when it cannot take any).
        LOG.warn("request {}: region {} failed on it with {} {}; not retried elsewhere", logRef, forwarded.region(),
            response.statusCode(), code);
      } else {
        LOG.info("request {}: region {} rejected it with {} {}", logRef, forwarded.region(), response.statusCode(), code);
      }
      metrics.rejected(tier, code);
      metrics.stopSubmit(timer, "rejected");
      if (code.equals(REGION_CODE_PREFIX + response.statusCode())) {
        // Not the regional API's JSON error: still give the client one.
        JsonReplies.json(ctx, response.statusCode(), new JsonObject().put("code", code)
            .put("message", "region " + forwarded.region() + " answered " + response.statusCode()));
      } else {
        JsonReplies.send(ctx, response.statusCode(), response.body());
      }
      return;
    }
    JsonObject view = Links.addTo(forwarded.view(), request.spec().batchSize());
    String id = view.getString("id");
    LOG.info("request {} ({}, {}): accepted by region {}", id, logRef, tier, forwarded.region());
    index.accepted(AccessRoutes.caller(ctx).user(), forwarded.view());
    metrics.accepted(tier);
    metrics.stopSubmit(timer, "accepted");
    ctx.response().putHeader("Location", Links.self(id));
    JsonReplies.json(ctx, 202, view);
  }

  public void view(RoutingContext ctx) {
    relay(ctx, "show", RegionClient::view);
  }

  /** {@code DELETE /v1/generations/{id}}: queued requests leave the queue, running ones stop at the next step. */
  public void cancel(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    LOG.info("request {}: cancel asked by {}", id, AccessRoutes.caller(ctx).user());
    relay(ctx, "cancel", RegionClient::cancel);
  }

  /** Calls the region holding the request and answers with its view (plus links) or its error. */
  private void relay(RoutingContext ctx, String what,
      java.util.function.BiFunction<RegionClient, String, io.vertx.core.Future<HttpResponse<Buffer>>> call) {
    String id = ctx.pathParam("id");
    RegionClient region = regions.forRequestId(id).orElse(null);
    if (region == null) {
      JsonReplies.notFound(ctx, "generation " + id);
      return;
    }
    call.apply(region, id).onComplete(answer -> {
      if (answer.failed() || answer.result().statusCode() >= 500) {
        String why = answer.failed() ? answer.cause().toString() : "answered " + answer.result().statusCode();
        LOG.warn("request {}: region {} could not {} it ({})", id, region.name(), what, why);
        JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "region " + region.name() + " cannot answer now", retryAfterSeconds);
        return;
      }
      HttpResponse<Buffer> response = answer.result();
      if (response.statusCode() == 404) {
        JsonReplies.notFound(ctx, "generation " + id);
      } else if (response.statusCode() == 200) {
        JsonObject view = parse(response.body());
        if (view == null) {
          LOG.error("request {}: region {} answered a view that is not JSON", id, region.name());
          JsonReplies.error(ctx, ApiError.of(ErrorCode.INTERNAL, "region " + region.name() + " answered garbage"));
        } else {
          if ("show".equals(what)) {
            index.seen(view);
          }
          JsonReplies.json(ctx, 200, Links.addTo(view, 1));
        }
      } else {
        JsonReplies.send(ctx, response.statusCode(), response.body() == null ? Buffer.buffer() : response.body());
      }
    });
  }

  /** The body as a JSON object, or null when it is empty, malformed or not an object. */
  static JsonObject parse(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      return Json.decodeValue(body) instanceof JsonObject object ? object : null;
    } catch (DecodeException malformed) {
      return null;
    }
  }

  private void reject(RoutingContext ctx, Timer.Sample timer, String tier, ApiError error) {
    // A user's mistake, not the system's: debug only. It has no id yet; name it by its key.
    String key = ctx.request().getHeader(RequestValidator.IDEMPOTENCY_HEADER);
    LOG.debug("submit (key={}) rejected: {} {}", key == null ? "-" : Echo.of(key, 40), error.code().wireName(), error.message());
    metrics.rejected(tier, error.code().wireName());
    metrics.stopSubmit(timer, "rejected");
    JsonReplies.error(ctx, error);
  }

  /** A bounded tag value: the tier asked for if it is one, the default if absent, else "unknown". */
  static String tierTag(JsonObject body) {
    Object tier = body.getValue("tier");
    if (tier == null) {
      return Tier.DEFAULT.wireName();
    }
    return tier instanceof String text ? Tier.parse(text).map(Tier::wireName).orElse(null) : null;
  }

  private static String regionErrorCode(HttpResponse<Buffer> response) {
    JsonObject body = parse(response.body());
    Object code = body == null ? null : body.getValue("code");
    return code instanceof String text && text.matches("[a-z_]{1,40}") ? text : REGION_CODE_PREFIX + response.statusCode();
  }
}
