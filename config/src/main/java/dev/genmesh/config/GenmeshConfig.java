package dev.genmesh.config;

import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.config.impl.Node;
import dev.genmesh.config.integration.BridgeConfig;
import dev.genmesh.config.integration.TracingConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The whole, validated configuration of a genmesh process. Build it with {@link ConfigLoader}. */
public record GenmeshConfig(
    EdgeConfig edge,
    Map<String, RegionConfig> regions,
    Map<String, ModelConfig> models,
    WorkerConfig worker,
    QueueConfig queue,
    HealthConfig health,
    BreakerConfig breakers,
    AutoscalingConfig autoscaling,
    Map<String, GpuConfig> gpus,
    Map<String, List<String>> routing,
    DrConfig dr,
    RegistryConfig registry,
    SafetyConfig safety,
    ImagesConfig images,
    FailoverConfig failover,
    UsersConfig users,
    ReplicationConfig replication,
    TracingConfig tracing,
    BridgeConfig bridge) {

  /** Without {@code tracing} and {@code bridge} sections: their defaults (both off). */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr,
      RegistryConfig registry, SafetyConfig safety, ImagesConfig images, FailoverConfig failover, UsersConfig users,
      ReplicationConfig replication) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images,
        failover, users, replication, TracingConfig.defaults(), BridgeConfig.defaults());
  }

  /** Without a {@code replication} section: the replication defaults. */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr,
      RegistryConfig registry, SafetyConfig safety, ImagesConfig images, FailoverConfig failover, UsersConfig users) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images,
        failover, users, ReplicationConfig.defaults());
  }

  /** Without a {@code users} section: no user database. */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr,
      RegistryConfig registry, SafetyConfig safety, ImagesConfig images, FailoverConfig failover) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images,
        failover, UsersConfig.disabled());
  }

  /** Without a {@code failover} section: the failover defaults (off). */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr,
      RegistryConfig registry, SafetyConfig safety, ImagesConfig images) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images,
        FailoverConfig.defaults());
  }

  /** Without an {@code images} section: the images defaults. */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr,
      RegistryConfig registry, SafetyConfig safety) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety,
        ImagesConfig.defaults());
  }

  /** Without a {@code safety} section: the safety defaults (the reference service). */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr,
      RegistryConfig registry) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry,
        SafetyConfig.defaults());
  }

  /** Without a {@code registry} section: the registry defaults. */
  public GenmeshConfig(EdgeConfig edge, Map<String, RegionConfig> regions, Map<String, ModelConfig> models,
      WorkerConfig worker, QueueConfig queue, HealthConfig health, BreakerConfig breakers,
      AutoscalingConfig autoscaling, Map<String, GpuConfig> gpus, Map<String, List<String>> routing, DrConfig dr) {
    this(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, RegistryConfig.defaults());
  }

  public RegionConfig region(String name) {
    RegionConfig region = regions.get(name);
    if (region == null) {
      throw new ConfigException("regions", "has no region named '" + name + "' (known: " + regions.keySet() + ")");
    }
    return region;
  }

  public Optional<RegionConfig> regionByCode(String code) {
    return regions.values().stream().filter(r -> r.code().equals(code)).findFirst();
  }

  public GenmeshConfig withEdge(EdgeConfig newEdge) {
    return new GenmeshConfig(newEdge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withRegions(Map<String, RegionConfig> newRegions) {
    return new GenmeshConfig(edge, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(newRegions)), models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withWorker(WorkerConfig newWorker) {
    return new GenmeshConfig(edge, regions, models, newWorker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withQueue(QueueConfig newQueue) {
    return new GenmeshConfig(edge, regions, models, worker, newQueue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withRegistry(RegistryConfig newRegistry) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, newRegistry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withImages(ImagesConfig newImages) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, newImages, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withSafety(SafetyConfig newSafety) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, newSafety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withUsers(UsersConfig newUsers) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, newUsers, replication, tracing, bridge);
  }

  public GenmeshConfig withReplication(ReplicationConfig newReplication) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, newReplication, tracing, bridge);
  }

  public GenmeshConfig withBridge(BridgeConfig newBridge) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, newBridge);
  }

  public GenmeshConfig withFailover(FailoverConfig newFailover) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus, routing, dr, registry, safety, images, newFailover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withHealth(HealthConfig newHealth) {
    return new GenmeshConfig(edge, regions, models, worker, queue, newHealth, breakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withAutoscaling(AutoscalingConfig newAutoscaling) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, newAutoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withGpus(Map<String, GpuConfig> newGpus) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling,
        java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(newGpus)), routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withRouting(Map<String, List<String>> newRouting) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, breakers, autoscaling, gpus,
        java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(newRouting)), dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  public GenmeshConfig withBreakers(BreakerConfig newBreakers) {
    return new GenmeshConfig(edge, regions, models, worker, queue, health, newBreakers, autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  /**
   * The {@code autoscaling.model_mix} family of a model: its {@code models.<m>.family}, else the
   * first family whose {@code autoscaling.model_classes} hold the model's first request class,
   * else {@code other}. An unknown model is {@code other}.
   */
  public String modelFamily(String model) {
    ModelConfig declared = models.get(model);
    if (declared == null) {
      return "other";
    }
    if (!declared.family().isEmpty()) {
      return declared.family();
    }
    return derivedFamily(declared).orElse("other");
  }

  private Optional<String> derivedFamily(ModelConfig model) {
    if (model.requestClasses().isEmpty()) {
      return Optional.empty();
    }
    String primary = model.requestClasses().get(0);
    return autoscaling.modelClasses().entrySet().stream()
        .filter(family -> autoscaling.modelMix().containsKey(family.getKey()) && family.getValue().contains(primary))
        .map(Map.Entry::getKey).findFirst();
  }

  /** Fills in each model's family ({@link #modelFamily}); a loaded config always names one. */
  private GenmeshConfig withModelFamilies() {
    Map<String, ModelConfig> resolved = new java.util.LinkedHashMap<>();
    models.forEach((name, model) -> {
      if (!model.family().isEmpty()) {
        resolved.put(name, model);
        return;
      }
      String family = derivedFamily(model).orElse(autoscaling.modelMix().containsKey("other") ? "other" : null);
      if (family == null) {
        throw new ConfigException("models." + name + ".family", "is not set and cannot be derived from its request classes "
            + model.requestClasses() + " (autoscaling.model_classes); name one of " + autoscaling.modelMix().keySet());
      }
      resolved.put(name, model.withFamily(family));
    });
    return new GenmeshConfig(edge, regions, java.util.Collections.unmodifiableMap(resolved), worker, queue, health, breakers,
        autoscaling, gpus, routing, dr, registry, safety, images, failover, users, replication, tracing, bridge);
  }

  /** A declared family is a model_mix family whose first request class (its plain one) the model serves. */
  private void checkModelFamilies() {
    models.forEach((name, model) -> {
      String family = model.family();
      if (family.isEmpty()) {
        return;
      }
      if (!autoscaling.modelMix().containsKey(family)) {
        throw new ConfigException("models." + name + ".family", "is '" + family + "', which is not a family of"
            + " autoscaling.model_mix " + autoscaling.modelMix().keySet());
      }
      List<String> familyClasses = autoscaling.modelClasses().get(family);
      // The family's first class is its own (sdxl, sd3_flux, batch); high_res may be shared by several.
      if (familyClasses != null && !familyClasses.isEmpty() && !model.requestClasses().contains(familyClasses.get(0))) {
        throw new ConfigException("models." + name + ".family", "is '" + family + "', whose first request class '"
            + familyClasses.get(0) + "' (autoscaling.model_classes." + family + ") the model does not serve (request_classes "
            + model.requestClasses() + ")");
      }
    });
  }

  /** Names that point elsewhere in the file must resolve. */
  private void checkReferences() {
    routing.forEach((requestClass, gpuNames) -> gpuNames.forEach(gpu -> {
      if (!gpus.containsKey(gpu)) {
        throw new ConfigException("routing." + requestClass, "names GPU class '" + gpu + "', which is not in gpus " + gpus.keySet());
      }
    }));
    for (String pool : autoscaling.pools().keySet()) {
      if (!gpus.containsKey(pool)) {
        throw new ConfigException("autoscaling.pools." + pool, "is not a GPU class in gpus " + gpus.keySet());
      }
    }
    autoscaling.modelClasses().forEach((family, classes) -> classes.forEach(requestClass -> {
      if (!routing.containsKey(requestClass)) {
        throw new ConfigException("autoscaling.model_classes." + family, "names request class '" + requestClass
            + "', which is not in routing " + routing.keySet());
      }
    }));
    for (String model : worker.models()) {
      if (!models.containsKey(model)) {
        throw new ConfigException("worker.models", "names model '" + model + "', which is not in models " + models.keySet());
      }
    }
    edge.openai().models().forEach((openAiName, model) -> {
      if (!models.containsKey(model)) {
        throw new ConfigException("edge.openai.models." + openAiName, "names model '" + model + "', which is not in models "
            + models.keySet());
      }
    });
    for (String region : edge.latencyMs().keySet()) {
      if (!regions.containsKey(region)) {
        throw new ConfigException("edge.latency_ms." + region, "is not a region in regions " + regions.keySet());
      }
    }
    models.forEach((name, model) -> {
      if (!model.fallback().isEmpty() && (!models.containsKey(model.fallback()) || model.fallback().equals(name))) {
        throw new ConfigException("models." + name + ".fallback", "names '" + model.fallback()
            + "', which is not another model in models " + models.keySet());
      }
    });
    if (!registry.primary().isEmpty() && !regions.containsKey(registry.primary())) {
      throw new ConfigException("registry.primary", "is '" + registry.primary() + "', which is not a region in regions "
          + regions.keySet() + " (empty: no primary, every region's registry stands alone)");
    }
    for (String region : failover.ring()) {
      if (!regions.containsKey(region)) {
        throw new ConfigException("failover.ring", "names '" + region + "', which is not a region in regions " + regions.keySet());
      }
    }
    if (edge.requireApiKey() && edge.apiKeySha256().isEmpty() && !users.enabled()) {
      throw new ConfigException("edge.require_api_key", "is true but edge.api_keys is empty and users.enabled is false:"
          + " nobody could call the API");
    }
    if (users.enabled() && !users.localRegion().isEmpty() && !regions.containsKey(users.localRegion())) {
      throw new ConfigException("users.local_region", "is not a region in regions " + regions.keySet());
    }
    long distinctCodes = regions.values().stream().map(RegionConfig::code).distinct().count();
    if (distinctCodes != regions.size()) {
      throw new ConfigException("regions", "every region needs its own code");
    }
  }

  static GenmeshConfig read(Node root) {
    Map<String, RegionConfig> regions = root.entries("regions", RegionConfig::read);
    Map<String, ModelConfig> models = root.entries("models", ModelConfig::read);
    Map<String, GpuConfig> gpus = root.entries("gpus", GpuConfig::read);
    Map<String, List<String>> routing = Map.copyOf(root.lists("routing"));
    GenmeshConfig config = new GenmeshConfig(
        EdgeConfig.read(root.child("edge")),
        regions,
        models,
        WorkerConfig.read(root.child("worker")),
        QueueConfig.read(root.child("queue")),
        HealthConfig.read(root.child("health")),
        BreakerConfig.read(root.child("breakers")),
        AutoscalingConfig.read(root.child("autoscaling")),
        gpus,
        routing,
        DrConfig.read(root.child("dr")),
        RegistryConfig.read(root.child("registry")),
        SafetyConfig.read(root.child("safety")),
        ImagesConfig.read(root.child("images")),
        root.has("failover") ? FailoverConfig.read(root.child("failover")) : FailoverConfig.defaults(),
        UsersConfig.read(root.child("users")),
        ReplicationConfig.read(root.child("replication")),
        root.has("tracing") ? TracingConfig.read(root.child("tracing")) : TracingConfig.defaults(),
        root.has("bridge") ? BridgeConfig.read(root.child("bridge")) : BridgeConfig.defaults());
    root.finish();
    config.failover.dns().checkRegions(regions.keySet(), "failover.dns");
    config.checkReferences();
    config.images.checkBuckets(regions.keySet());
    config.dr.checkCopyTo(regions.keySet());
    config.checkModelFamilies();
    config.replication.peers().forEach((region, peer) -> {
      if (!regions.containsKey(region) || !regions.containsKey(peer)) {
        throw new ConfigException("replication.peers." + region, "names '" + region + " -> " + peer
            + "', but regions has only " + regions.keySet());
      }
    });
    // The quorum names a down region's adopter from failover.ring; replication holds its replica
    // at replication.peers: only the region holding the replica can adopt, so they must agree.
    if (config.failover.enabled() && config.replication.enabled()) {
      config.replication.peers().forEach((region, peer) -> {
        String adopter = config.failover.adopterOf(region);
        if (adopter != null && !adopter.equals(peer)) {
          throw new ConfigException("failover.ring", "makes " + adopter + " the adopter of " + region
              + ", but its replica is in " + peer + " (replication.peers): the two must name the same ring");
        }
      });
    }
    return config.withModelFamilies();
  }
}
