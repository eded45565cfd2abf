package dev.genmesh.inference.pipeline.impl;

import dev.genmesh.inference.pipeline.LoadedModel;

/**
 * A small preview of a generation in progress: the current latent of one batch item, box-averaged
 * to at most {@link #PREVIEW_CELLS} cells on its long side, through the model's own decoder
 * ({@value #PREVIEW_CELLS} cells: a 64-pixel long side). Costs one tiny decode; the model's
 * decoder is per-pixel, so the preview looks like the image will, only coarser and noisier.
 */
public final class PreviewRenderer {

  static final int PREVIEW_CELLS = 8;

  private PreviewRenderer() {}

  public static byte[] render(LoadedModel model, NhwcArray latent, int item) {
    NhwcArray small = downsample(latent, item);
    return PngEncoder.encode(model.decode(small), 0);
  }

  /** Item {@code item} of {@code latent}, averaged over boxes to at most 8 cells a side. */
  static NhwcArray downsample(NhwcArray latent, int item) {
    int h = latent.height();
    int w = latent.width();
    int c = latent.channels();
    int longSide = Math.max(h, w);
    int th = Math.max(1, Math.round(h * (float) Math.min(PREVIEW_CELLS, longSide) / longSide));
    int tw = Math.max(1, Math.round(w * (float) Math.min(PREVIEW_CELLS, longSide) / longSide));
    float[] out = new float[th * tw * c];
    float[] data = latent.data();
    int base = item * latent.itemSize();
    for (int ty = 0; ty < th; ty++) {
      int y0 = ty * h / th;
      int y1 = (ty + 1) * h / th;
      for (int tx = 0; tx < tw; tx++) {
        int x0 = tx * w / tw;
        int x1 = (tx + 1) * w / tw;
        float count = (y1 - y0) * (float) (x1 - x0);
        for (int y = y0; y < y1; y++) {
          for (int x = x0; x < x1; x++) {
            int from = base + (y * w + x) * c;
            for (int k = 0; k < c; k++) {
              out[(ty * tw + tx) * c + k] += data[from + k] / count;
            }
          }
        }
      }
    }
    return new NhwcArray(out, 1, th, tw, c);
  }
}
