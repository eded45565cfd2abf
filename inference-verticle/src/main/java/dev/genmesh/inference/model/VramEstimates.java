package dev.genmesh.inference.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memory figures a bundled model declares in its manifest. They are estimates from the
 * architecture, not measurements (TF's CPU allocator gives no per-session figure):
 *
 * <ul>
 *   <li>base: {@link #RUNTIME_MB} for the session and graph, plus the weights twice (the
 *       checkpoint read and the live variables);
 *   <li>per image at W x H, with cells = W*H/64 latent cells: the denoise step's largest live
 *       tensors, for cond and uncond (3 hidden-wide activations, 4 wave tensors of 12 channels),
 *       the decoder's 192-channel cell tensor, and 3 RGB float images; all doubled for headroom.
 * </ul>
 */
final class VramEstimates {

  static final long RUNTIME_MB = 48;
  private static final int[] SIDES = {256, 512, 768, 1024};
  private static final double MIB = 1024.0 * 1024.0;

  private VramEstimates() {}

  static ModelManifest.VramEstimate of(ModelArchitecture arch, long variableBytes) {
    long base = RUNTIME_MB + (long) Math.ceil(2 * variableBytes / MIB);
    Map<String, Long> perImage = new LinkedHashMap<>();
    for (int side : SIDES) {
      perImage.put(side + "x" + side, perImageMb(arch, side, side));
    }
    return new ModelManifest.VramEstimate(base, perImage);
  }

  static long perImageMb(ModelArchitecture arch, int width, int height) {
    double cells = width * (double) height / 64;
    double bytesPerCell = 2 * (3 * arch.hidden() + 4 * 12) * Float.BYTES + 192 * Float.BYTES;
    double pixelBytes = width * (double) height * 3 * 3 * Float.BYTES;
    return (long) Math.ceil(2 * (cells * bytesPerCell + pixelBytes) / MIB);
  }
}
