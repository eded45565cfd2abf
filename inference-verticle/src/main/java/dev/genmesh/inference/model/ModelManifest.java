package dev.genmesh.inference.model;

import dev.genmesh.registry.BundleCheck;
import dev.genmesh.registry.ManifestFile;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code manifest.json} beside a SavedModel: the registry's bundle manifest (name, version, and
 * every file with its SHA-256, {@link ManifestFile}, so that a worker refuses a model damaged in
 * transit or on disk) plus what the model is and what it accepts.
 */
public record ModelManifest(
    String name,
    String version,
    List<String> signatures,
    Range width,
    Range height,
    Range steps,
    List<ManifestFile> files,
    List<AdapterEntry> adapters,
    List<ConditioningEntry> conditioning,
    List<String> requestClasses,
    VramEstimate vram) {

  /** Inclusive bounds; a value must also be a multiple of {@code multipleOf}. */
  public record Range(int min, int max, int multipleOf) {
    public boolean contains(int value) {
      return value >= min && value <= max && value % multipleOf == 0;
    }

    JsonObject toJson() {
      return new JsonObject().put("min", min).put("max", max).put("multiple_of", multipleOf);
    }

    static Range fromJson(JsonObject json) {
      return new Range(
          json.getInteger("min"), json.getInteger("max"), json.getInteger("multiple_of", 1));
    }
  }

  /**
   * A LoRA adapter shipped with the model: low-rank weight deltas in its own files (which are
   * also listed in {@code files}), applied in-graph by the {@code denoise_step_lora} signatures.
   */
  public record AdapterEntry(String name, String version, int rank, double alpha, List<ManifestFile> files) {
    public AdapterEntry {
      files = List.copyOf(files);
    }

    /** {@code name@version}, as requests and configuration name it. */
    public String reference() {
      return name + "@" + version;
    }

    JsonObject toJson() {
      return new JsonObject().put("name", name).put("version", version).put("rank", rank).put("alpha", alpha)
          .put("files", new JsonArray(files.stream().map(ManifestFile::toJson).collect(Collectors.toList())));
    }

    static AdapterEntry fromJson(JsonObject json) {
      return new AdapterEntry(json.getString("name"), json.getString("version"), json.getInteger("rank"),
          json.getDouble("alpha", (double) json.getInteger("rank")), ManifestFile.listedIn(json));
    }
  }

  /** A conditioning input the model accepts: {@code channels} planes at the image size. */
  public record ConditioningEntry(String name, String kind, int channels) {
    JsonObject toJson() {
      return new JsonObject().put("name", name).put("kind", kind).put("channels", channels);
    }

    static ConditioningEntry fromJson(JsonObject json) {
      return new ConditioningEntry(json.getString("name"), json.getString("kind", "control"),
          json.getInteger("channels", 1));
    }
  }

  /**
   * Memory a request needs: {@code baseMb} once for the loaded model, plus per image of a batch the
   * figure of the smallest listed resolution with at least as many pixels (above the largest:
   * scaled by pixels). Resolutions are keyed {@code WxH}.
   */
  public record VramEstimate(long baseMb, Map<String, Long> perImageMb) {
    public static final VramEstimate UNKNOWN = new VramEstimate(0, Map.of());

    public VramEstimate {
      perImageMb = Collections.unmodifiableMap(new LinkedHashMap<>(perImageMb));
    }

    public boolean isKnown() {
      return baseMb > 0 || !perImageMb.isEmpty();
    }

    /** Estimated MB for a batch of {@code images} at width x height, base included; 0 if unknown. */
    public long estimateMb(int width, int height, int images) {
      if (!isKnown()) {
        return 0;
      }
      long pixels = (long) width * height;
      long largestPixels = 0;
      long largestMb = 0;
      long best = -1;
      long bestPixels = Long.MAX_VALUE;
      for (Map.Entry<String, Long> e : perImageMb.entrySet()) {
        long p = pixelsOf(e.getKey());
        if (p >= pixels && p < bestPixels) {
          bestPixels = p;
          best = e.getValue();
        }
        if (p > largestPixels) {
          largestPixels = p;
          largestMb = e.getValue();
        }
      }
      long perImage = best >= 0 ? best
          : largestPixels == 0 ? 0 : (long) Math.ceil(largestMb * (double) pixels / largestPixels);
      return baseMb + perImage * Math.max(1, images);
    }

    private static long pixelsOf(String resolution) {
      String[] wh = resolution.split("x");
      return Long.parseLong(wh[0].trim()) * Long.parseLong(wh[1].trim());
    }

    JsonObject toJson() {
      JsonObject per = new JsonObject();
      perImageMb.forEach(per::put);
      return new JsonObject().put("base_mb", baseMb).put("per_image_mb", per);
    }

    static VramEstimate fromJson(JsonObject json) {
      if (json == null) {
        return UNKNOWN;
      }
      Map<String, Long> per = new LinkedHashMap<>();
      JsonObject perJson = json.getJsonObject("per_image_mb", new JsonObject());
      perJson.fieldNames().forEach(k -> per.put(k, perJson.getLong(k)));
      return new VramEstimate(json.getLong("base_mb", 0L), per);
    }
  }

  public ModelManifest {
    signatures = List.copyOf(signatures);
    files = List.copyOf(files);
    adapters = List.copyOf(adapters);
    conditioning = List.copyOf(conditioning);
    requestClasses = List.copyOf(requestClasses);
    vram = vram == null ? VramEstimate.UNKNOWN : vram;
  }

  /** A manifest that declares no adapters, conditioning, request classes or memory estimate. */
  public ModelManifest(String name, String version, List<String> signatures, Range width, Range height,
      Range steps, List<ManifestFile> files) {
    this(name, version, signatures, width, height, steps, files, List.of(), List.of(), List.of(),
        VramEstimate.UNKNOWN);
  }

  /** The adapter a request names ({@code name}: its last listed version; {@code name@version}). */
  public java.util.Optional<AdapterEntry> adapter(String reference) {
    AdapterEntry found = null;
    for (AdapterEntry a : adapters) {
      if (a.reference().equals(reference) || a.name().equals(reference)) {
        found = a;
      }
    }
    return java.util.Optional.ofNullable(found);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("name", name)
        .put("version", version)
        .put("format", "tensorflow-saved-model")
        .put("tags", new JsonArray().add(ModelContract.SERVE_TAG))
        .put("signatures", new JsonArray(new ArrayList<>(signatures)))
        .put("width", width.toJson())
        .put("height", height.toJson())
        .put("steps", steps.toJson())
        .put(
            "files",
            new JsonArray(files.stream().map(ManifestFile::toJson).collect(Collectors.toList())))
        .put("adapters",
            new JsonArray(adapters.stream().map(AdapterEntry::toJson).collect(Collectors.toList())))
        .put("conditioning",
            new JsonArray(conditioning.stream().map(ConditioningEntry::toJson).collect(Collectors.toList())))
        .put("request_classes", new JsonArray(new ArrayList<>(requestClasses)))
        .put("vram_mb", vram.toJson());
  }

  public static ModelManifest fromJson(JsonObject json) {
    List<String> signatures = new ArrayList<>();
    json.getJsonArray("signatures", new JsonArray()).forEach(s -> signatures.add((String) s));
    List<AdapterEntry> adapters = new ArrayList<>();
    json.getJsonArray("adapters", new JsonArray())
        .forEach(a -> adapters.add(AdapterEntry.fromJson((JsonObject) a)));
    List<ConditioningEntry> conditioning = new ArrayList<>();
    json.getJsonArray("conditioning", new JsonArray())
        .forEach(c -> conditioning.add(ConditioningEntry.fromJson((JsonObject) c)));
    List<String> requestClasses = new ArrayList<>();
    json.getJsonArray("request_classes", new JsonArray()).forEach(c -> requestClasses.add((String) c));
    return new ModelManifest(
        json.getString("name"),
        json.getString("version"),
        signatures,
        Range.fromJson(json.getJsonObject("width")),
        Range.fromJson(json.getJsonObject("height")),
        Range.fromJson(json.getJsonObject("steps")),
        ManifestFile.listedIn(json),
        adapters,
        conditioning,
        requestClasses,
        VramEstimate.fromJson(json.getJsonObject("vram_mb")));
  }

  /** Writes {@code manifest.json} into {@code modelDir}. */
  public void write(Path modelDir) throws IOException {
    Files.writeString(
        modelDir.resolve(BundleCheck.MANIFEST), toJson().encodePrettily() + "\n", StandardCharsets.UTF_8);
  }

  /** Reads {@code manifest.json} from {@code modelDir}. */
  public static ModelManifest read(Path modelDir) throws IOException {
    String text = Files.readString(modelDir.resolve(BundleCheck.MANIFEST), StandardCharsets.UTF_8);
    return fromJson(new JsonObject(text));
  }
}
