package dev.genmesh.region;

import dev.genmesh.images.ImageKeys;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.registry.Sha256;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.BatchHint;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.protocol.WorkerMessages.Failure;
import dev.genmesh.protocol.WorkerMessages.Heartbeat;
import dev.genmesh.protocol.WorkerMessages.Result;
import dev.genmesh.protocol.WorkerMessages.Step;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Talks to a region node over the event bus the way an inference worker does. */
public final class TestWorker {
  private static final DeliveryOptions TIMEOUT = new DeliveryOptions().setSendTimeout(10_000);

  private final Vertx vertx;
  private final String region;
  public final String id;
  private final List<String> models;
  private final String gpuClass;
  private final long freeVramMb;
  private ImageStore store;

  public TestWorker(Vertx vertx, String region, String id, List<String> models) {
    this(vertx, region, id, models, "cpu", 8192);
  }

  public TestWorker(Vertx vertx, String region, String id, List<String> models, String gpuClass, long freeVramMb) {
    this.vertx = vertx;
    this.region = region;
    this.id = id;
    this.models = models;
    this.gpuClass = gpuClass;
    this.freeVramMb = freeVramMb;
  }

  public Future<Assignment> claim() {
    return claim(null);
  }

  /** A claim for a request that can join a batch the worker already holds ({@code batch_with}); null: any. */
  public Future<Assignment> claim(BatchHint batchWith) {
    return vertx.eventBus().<JsonObject>request(Addresses.claim(region),
            new Claim(id, gpuClass, freeVramMb, models, batchWith).toJson(), TIMEOUT)
        .map(reply -> Assignment.fromJson(reply.body()));
  }

  /** The id of the claimed request, or null when the region answered NO_WORK. */
  public Future<Assignment> claimOrNull() {
    return claim().recover(err -> err instanceof io.vertx.core.eventbus.ReplyException re
        && re.failureCode() == dev.genmesh.protocol.BusFailure.NO_WORK ? Future.succeededFuture(null) : Future.failedFuture(err));
  }

  public Future<JsonObject> fail(String requestId, int attempt, String type, String message) {
    return vertx.eventBus().<JsonObject>request(Addresses.failure(region),
        new Failure(requestId, attempt, id, type, message).toJson(), TIMEOUT).map(reply -> reply.body());
  }

  public void heartbeat(List<String> active, List<String> loaded) {
    vertx.eventBus().publish(Addresses.heartbeat(region),
        new Heartbeat(id, region, gpuClass, 8192, freeVramMb, loaded, 0.5, active, System.currentTimeMillis()).toJson());
  }

  public void step(Assignment a, int step, int total, double stepMs) {
    vertx.eventBus().send(Addresses.progress(region), new Step(a.requestId(), a.attempt(), id, step, total, stepMs).toJson());
  }

  /**
   * Uploads the PNGs to the region's bucket under the attempt's keys, as a worker does, then
   * reports the result with their keys, sizes and SHA-256.
   */
  public Future<JsonObject> result(String requestId, int attempt, List<byte[]> pngs) {
    List<StoredImage> images = new ArrayList<>();
    List<Future<?>> uploads = new ArrayList<>();
    for (int i = 0; i < pngs.size(); i++) {
      String key = ImageKeys.of(requestId, attempt, i);
      images.add(new StoredImage(key, pngs.get(i).length, Sha256.of(pngs.get(i))));
      uploads.add(store().put(key, Buffer.buffer(pngs.get(i)), ImageStores.PNG, ImageStores.IMMUTABLE));
    }
    return Future.all(uploads).compose(v -> report(new Result(requestId, attempt, id, images, 123.0)));
  }

  /** Reports a result as given (its images need not exist). */
  public Future<JsonObject> report(Result result) {
    return vertx.eventBus().<JsonObject>request(Addresses.result(region), result.toJson(), TIMEOUT)
        .map(reply -> reply.body());
  }

  private synchronized ImageStore store() {
    if (store == null) {
      store = ImageStores.s3(vertx, TestRegion.images().forRegion(region));
    }
    return store;
  }

  public Future<JsonObject> fail(Assignment a, String type, String message) {
    return vertx.eventBus().<JsonObject>request(Addresses.failure(region),
        new Failure(a.requestId(), a.attempt(), id, type, message).toJson(), TIMEOUT).map(reply -> reply.body());
  }

  public void heartbeat(List<String> active) {
    heartbeat(active, models);
  }

  /**
   * A real PNG (ImageIO) of the 512 x 512 the tests' specs ask for (the safety gate checks the
   * size), different per {@code shade}.
   */
  public static byte[] png(int shade) {
    return png(shade, 512, 512);
  }

  public static byte[] png(int shade, int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x++) {
      for (int y = 0; y < height; y++) {
        image.setRGB(x, y, new Color(Math.floorMod(shade, 256), (x * 4) % 256, (y * 4) % 256).getRGB());
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** One flat colour: what the reference safety service blocks as blank. */
  public static byte[] blankPng(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = image.createGraphics();
    g.setColor(new Color(40, 40, 40));
    g.fillRect(0, 0, width, height);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
