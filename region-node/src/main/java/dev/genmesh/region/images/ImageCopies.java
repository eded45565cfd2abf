package dev.genmesh.region.images;

import dev.genmesh.config.ImagesConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.images.NoSuchObjectException;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.region.node.RegionContext;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A region's part in keeping images across regions (docs/architecture.md, "Images across regions"):
 * the {@link ImageCopier} that sends this region's completed images to its holder's bucket of
 * copies, and the bucket of copies this region holds for others, from which its regional API serves
 * their images while they are down.
 */
public final class ImageCopies {
  private final ImageCopier copier;
  private final ImageStore outgoing;
  private final ImageStore held;
  private final List<String> heldFor;
  /** The id prefixes ({@link RequestIds#regionCode}) of the regions whose copies are held here. */
  private final Set<String> heldCodes;

  private ImageCopies(ImageCopier copier, ImageStore outgoing, ImageStore held, List<String> heldFor,
      Set<String> heldCodes) {
    this.copier = copier;
    this.outgoing = outgoing;
    this.held = held;
    this.heldFor = heldFor;
    this.heldCodes = heldCodes;
  }

  /** Opens the stores (no call to them yet) as {@code images.copies} says; {@code source} is the region's own bucket. */
  public static ImageCopies open(RegionContext ctx, Pool pool, ImageStore source) {
    ImagesConfig images = ctx.config().images();
    List<String> regions = List.copyOf(ctx.config().regions().keySet());
    Optional<String> holder = images.copyHolder(ctx.region(), regions);
    ImageStore outgoing = holder.map(h -> ImageStores.s3(ctx.vertx(), images.copiesOf(h))).orElse(null);
    ImageCopier copier = outgoing == null ? null : new ImageCopier(ctx, pool, source, holder.get(), outgoing);
    List<String> heldFor = images.copiesHeldFor(ctx.region(), regions);
    ImageStore held = heldFor.isEmpty() ? null : ImageStores.s3(ctx.vertx(), images.copiesOf(ctx.region()));
    Set<String> codes = heldFor.stream().map(r -> ctx.config().region(r).code()).collect(Collectors.toUnmodifiableSet());
    return new ImageCopies(copier, outgoing, held, heldFor, codes);
  }

  public void start() {
    if (copier != null) {
      copier.start();
    }
  }

  public void stop() {
    if (copier != null) {
      copier.stop();
    }
  }

  /** The copier, when this region's images are copied somewhere (tests run passes by hand). */
  public Optional<ImageCopier> copier() {
    return Optional.ofNullable(copier);
  }

  /** The regions whose copies this region holds. */
  public List<String> heldFor() {
    return heldFor;
  }

  /** The bucket of copies this region holds, when it holds any. */
  public Optional<ImageStore> held() {
    return Optional.ofNullable(held);
  }

  /**
   * The manifest of another region's completed request {@code id} among the copies held here;
   * empty when this region holds no copy of it (no store call for ids of regions whose copies are
   * not held here). Fails when the store cannot be read.
   */
  public Future<Optional<CopyManifest>> find(String id) {
    if (held == null || RequestIds.regionCode(id).filter(heldCodes::contains).isEmpty()) {
      return Future.succeededFuture(Optional.empty());
    }
    return held.get(CopyManifest.key(id))
        .map(bytes -> Optional.of(CopyManifest.fromBuffer(bytes)))
        .recover(err -> err instanceof NoSuchObjectException
            ? Future.succeededFuture(Optional.empty()) : Future.failedFuture(err));
  }

  public Future<Void> close() {
    stop();
    Future<Void> chain = Future.succeededFuture();
    for (ImageStore store : new ImageStore[] {outgoing, held}) {
      if (store != null) {
        chain = chain.transform(v -> store.close());
      }
    }
    return chain;
  }
}
