package dev.genmesh.inference.model;

/**
 * The SavedModel contract every genmesh model honours: signature names, tensor keys and fixed
 * dimensions. Any SavedModel that exposes the three required signatures can replace the bundled
 * one; the {@code denoise_step_*} variants are optional and needed only for the adapters and
 * conditioning its manifest declares.
 */
public final class ModelContract {

  public static final String SERVE_TAG = "serve";

  public static final String ENCODE_TEXT = "encode_text";
  public static final String DENOISE_STEP = "denoise_step";
  public static final String DECODE = "decode";
  /** {@link #DENOISE_STEP} with LoRA deltas: W + adapter_scale * A·B on the adapted weights. */
  public static final String DENOISE_STEP_LORA = "denoise_step_lora";
  /** {@link #DENOISE_STEP} with a conditioning image added as residuals. */
  public static final String DENOISE_STEP_CONTROL = "denoise_step_control";
  /** Both of the above in one step. */
  public static final String DENOISE_STEP_LORA_CONTROL = "denoise_step_lora_control";

  public static final String TOKENS = "tokens";
  public static final String EMBEDDING = "embedding";
  public static final String LATENT = "latent";
  public static final String COND = "cond";
  public static final String UNCOND = "uncond";
  public static final String SIGMA = "sigma";
  public static final String SIGMA_NEXT = "sigma_next";
  public static final String GUIDANCE = "guidance";
  public static final String IMAGE = "image";
  /** LoRA factors of the composition weights [256, 84]: A is [256, r], B is [r, 84]. */
  public static final String LORA_WAVE_A = "lora_wave_a";
  public static final String LORA_WAVE_B = "lora_wave_b";
  /** LoRA factors of the first middle conv, its kernel seen as [9 * hidden, hidden]. */
  public static final String LORA_CONV_A = "lora_conv_a";
  public static final String LORA_CONV_B = "lora_conv_b";
  public static final String ADAPTER_SCALE = "adapter_scale";
  /** Conditioning image at latent resolution [b, h, w, 1], values in [0, 1]. */
  public static final String CONTROL = "control";
  public static final String CONTROL_SCALE = "control_scale";

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
