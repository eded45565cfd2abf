package dev.genmesh.inference.model;

/**
 * The SavedModel contract every genmesh model honours: signature names, tensor keys and fixed
 * dimensions. Any SavedModel that exposes these three signatures can replace the bundled one.
 */
public final class ModelContract {

  public static final String SERVE_TAG = "serve";

  public static final String ENCODE_TEXT = "encode_text";
  public static final String DENOISE_STEP = "denoise_step";
  public static final String DECODE = "decode";

  public static final String TOKENS = "tokens";
  public static final String EMBEDDING = "embedding";
  public static final String LATENT = "latent";
  public static final String COND = "cond";
  public static final String UNCOND = "uncond";
  public static final String SIGMA = "sigma";
  public static final String SIGMA_NEXT = "sigma_next";
  public static final String GUIDANCE = "guidance";
  public static final String IMAGE = "image";

  /** Tokens per prompt, padded with {@link #PAD_TOKEN}. */
  public static final int TOKEN_LENGTH = 77;
  public static final int VOCAB_SIZE = 4096;
  public static final int PAD_TOKEN = 0;
  public static final int EMBEDDING_DIM = 256;
  public static final int LATENT_CHANNELS = 4;
  /** Image pixels per latent cell along each axis. */
  public static final int LATENT_DOWNSCALE = 8;

  private ModelContract() {}
}
