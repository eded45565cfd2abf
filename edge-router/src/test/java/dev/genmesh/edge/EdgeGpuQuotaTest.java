package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.UsersConfig.GpuQuota;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GPU-seconds per month for fast and turbo, metered by two edges over one user database: alice's
 * completed generations (6 GPU-seconds each, as the region reports them) use up her 10 s; then
 * fast and turbo answer 429 gpu_quota_exceeded with Retry-After until the month ends on either edge,
 * relax is accepted but sent to the region at a lower priority, bob is unaffected, and both edges
 * report the same usage. A quota of her own lets her in again.
 */
@ExtendWith(StoresExtension.class)
class EdgeGpuQuotaTest {
  private static final long S = 10;
  private static final OpenApiSpec SPEC = OpenApiSpec.load();

  private TwoEdges edges;

  @BeforeEach
  void start(TestStores stores) {
    edges = new TwoEdges(stores, u -> u.withGpuQuota(new GpuQuota(10, 0.5, -50)));
  }

  @AfterEach
  void stop() {
    edges.close();
  }

  @Test
  void aUserPastTheirGpuSecondsGets429OnFastAndTurboButRelaxWorksAndOthersAreUnaffected() {
    completeWithGpuMs(submitted(edges.first, edges.alice, "fast"), 6_000);
    completeWithGpuMs(submitted(edges.second, edges.alice, "fast"), 6_000); // 6 s used before it: under 10

    Instant monthEnd = YearMonth.now(ZoneOffset.UTC).plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    long toMonthEnd = Duration.between(Instant.now(), monthEnd).toSeconds();
    int forwarded = edges.region.submits.size();
    for (int port : new int[] {edges.first, edges.second}) {
      for (String tier : new String[] {"fast", "turbo"}) {
        HttpResponse<Buffer> refused = edges.submit(port, edges.alice, tier);
        assertThat(refused.statusCode()).as("%s on edge %d", tier, port).isEqualTo(429);
        JsonObject body = refused.bodyAsJsonObject();
        assertThat(body.getString("code")).isEqualTo("gpu_quota_exceeded");
        assertThat(body.getString("message")).contains("relax still works");
        assertThat(body.getBoolean("relax_available")).isTrue();
        assertThat(body.getLong("used_gpu_seconds")).isEqualTo(12);
        assertThat(body.getLong("quota_gpu_seconds")).isEqualTo(10);
        assertThat(Long.parseLong(refused.getHeader("Retry-After"))).isBetween(toMonthEnd - 60, toMonthEnd + 60);
        assertThat(refused.getHeader("GPU-Quota-Limit")).isEqualTo("10");
        assertThat(refused.getHeader("GPU-Quota-Remaining")).isEqualTo("0");
        assertThat(SPEC.check("post", "/v1/generations", 429, refused.headers(), refused.body())).as("the contract")
            .isEmpty();
      }
    }
    assertThat(edges.region.submits).as("nothing refused reached the region").hasSize(forwarded);

    HttpResponse<Buffer> relax = edges.submit(edges.first, edges.alice, "relax");
    assertThat(relax.statusCode()).as("relax is never refused for the quota").isEqualTo(202);
    assertThat(lastSubmit().getInteger("priority")).as("a heavy user's relax").isEqualTo(-50);
    HttpResponse<Buffer> other = edges.submit(edges.second, edges.bob, "fast");
    assertThat(other.statusCode()).as("another user").isEqualTo(202);
    assertThat(other.getHeader("GPU-Quota-Remaining")).isEqualTo("10");
    assertThat(edges.submit(edges.first, edges.bob, "relax").statusCode()).isEqualTo(202);
    assertThat(lastSubmit().containsKey("priority")).as("a light user's relax").isFalse();

    for (int port : new int[] {edges.first, edges.second}) {
      HttpResponse<Buffer> usage = Waits.await(S, edges.get(port, "/v1/usage", edges.alice).send());
      JsonObject gpu = usage.bodyAsJsonObject().getJsonObject("gpu_seconds");
      assertThat(gpu.getDouble("used")).as("the same count on edge %d", port).isEqualTo(12.0);
      assertThat(gpu.getLong("quota")).isEqualTo(10);
      assertThat(gpu.getLong("remaining")).isZero();
      assertThat(gpu.getBoolean("relax_deprioritised")).isTrue();
      assertThat(SPEC.check("get", "/v1/usage", 200, usage.headers(), usage.body())).as("the contract").isEmpty();
    }

    Waits.await(S, edges.fixture.users.setGpuQuota("alice", 100L));
    assertThat(edges.submit(edges.second, edges.alice, "turbo").statusCode()).as("with a quota of her own")
        .isEqualTo(202);
  }

  private JsonObject lastSubmit() {
    return edges.region.submits.get(edges.region.submits.size() - 1);
  }

  /** Submits and waits until the generation index holds the request (the edge writes it after the 202). */
  private String submitted(int port, String key, String tier) {
    HttpResponse<Buffer> accepted = edges.submit(port, key, tier);
    assertThat(accepted.statusCode()).isEqualTo(202);
    String id = accepted.bodyAsJsonObject().getString("id");
    Waits.eventually(S, () -> Waits.await(S, edges.fixture.users.generation(id)).isPresent(), "the index holds " + id);
    return id;
  }

  /** The region completes the request, reporting its GPU time. */
  private void completeWithGpuMs(String id, long gpuMs) {
    edges.region.views.get(id).put("status", "completed").put("completed_at", Instant.now().toString())
        .put("timings", new JsonObject().put("gpu_ms", gpuMs));
  }

}
