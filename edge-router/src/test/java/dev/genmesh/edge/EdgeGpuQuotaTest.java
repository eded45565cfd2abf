package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.UsersConfig.GpuQuota;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
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
  private FakeRegion region;
  private UserStore users;
  private int first;
  private int second;
  private String alice;
  private String bob;

  @BeforeEach
  void start(TestStores stores) {
    edges = new TwoEdges(stores, u -> u.withGpuQuota(new GpuQuota(10, 0.5, -50)));
    region = edges.region;
    users = edges.fixture.users;
    first = edges.first;
    second = edges.second;
    alice = edges.alice;
    bob = edges.bob;
  }

  @AfterEach
  void stop() {
    edges.close();
  }

  @Test
  void aUserPastTheirGpuSecondsGets429OnFastAndTurboButRelaxWorksAndOthersAreUnaffected() {
    completeWithGpuMs(submitted(first, alice, "fast"), 6_000);
    completeWithGpuMs(submitted(second, alice, "fast"), 6_000); // 6 s used before it: under 10

    Instant monthEnd = YearMonth.now(ZoneOffset.UTC).plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    long toMonthEnd = Duration.between(Instant.now(), monthEnd).toSeconds();
    int forwarded = region.submits.size();
    for (int port : new int[] {first, second}) {
      for (String tier : new String[] {"fast", "turbo"}) {
        HttpResponse<Buffer> refused = submit(port, alice, tier);
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
        assertThat(SPEC.check("post", "/v1/generations", 429, refused.headers(), refused.body())).as("the contract").isEmpty();
      }
    }
    assertThat(region.submits).as("nothing refused reached the region").hasSize(forwarded);

    HttpResponse<Buffer> relax = submit(first, alice, "relax");
    assertThat(relax.statusCode()).as("relax is never refused for the quota").isEqualTo(202);
    assertThat(region.submits.get(region.submits.size() - 1).getInteger("priority")).as("a heavy user's relax")
        .isEqualTo(-50);
    HttpResponse<Buffer> other = submit(second, bob, "fast");
    assertThat(other.statusCode()).as("another user").isEqualTo(202);
    assertThat(other.getHeader("GPU-Quota-Remaining")).isEqualTo("10");
    assertThat(submit(first, bob, "relax").statusCode()).isEqualTo(202);
    assertThat(region.submits.get(region.submits.size() - 1).containsKey("priority")).as("a light user's relax").isFalse();

    for (int port : new int[] {first, second}) {
      JsonObject gpu = Waits.await(S, request(port, "/v1/usage", alice).send()).bodyAsJsonObject().getJsonObject("gpu_seconds");
      assertThat(gpu.getDouble("used")).as("the same count on edge %d", port).isEqualTo(12.0);
      assertThat(gpu.getLong("quota")).isEqualTo(10);
      assertThat(gpu.getLong("remaining")).isZero();
      assertThat(gpu.getBoolean("relax_deprioritised")).isTrue();
      HttpResponse<Buffer> usage = Waits.await(S, request(port, "/v1/usage", alice).send());
      assertThat(SPEC.check("get", "/v1/usage", 200, usage.headers(), usage.body())).as("the contract").isEmpty();
    }

    Waits.await(S, users.setGpuQuota("alice", 100L));
    assertThat(submit(second, alice, "turbo").statusCode()).as("with a quota of her own").isEqualTo(202);
  }

  /** Submits and waits until the generation index holds the request (the edge writes it after the 202). */
  private String submitted(int port, String key, String tier) {
    HttpResponse<Buffer> accepted = submit(port, key, tier);
    assertThat(accepted.statusCode()).isEqualTo(202);
    String id = accepted.bodyAsJsonObject().getString("id");
    Waits.eventually(S, () -> Waits.await(S, users.generation(id)).isPresent(), "the index holds " + id);
    return id;
  }

  /** The region completes the request, reporting its GPU time. */
  private void completeWithGpuMs(String id, long gpuMs) {
    region.views.get(id).put("status", "completed").put("completed_at", Instant.now().toString())
        .put("timings", new JsonObject().put("gpu_ms", gpuMs));
  }

  private HttpResponse<Buffer> submit(int port, String key, String tier) {
    return edges.submit(port, key, tier);
  }

  private HttpRequest<Buffer> request(int port, String path, String key) {
    return edges.get(port, path, key);
  }
}
