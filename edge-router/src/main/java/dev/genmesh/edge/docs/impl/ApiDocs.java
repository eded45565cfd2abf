package dev.genmesh.edge.docs.impl;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The public API's contract, {@code openapi.yaml} (kept in this module's resources and checked
 * against the edge by OpenApiContractTest), served at {@code /openapi.yaml}, and a reference page
 * at {@code /docs}: swagger-ui from its webjar, served by the edge itself (no CDN).
 */
public final class ApiDocs {
  public static final String SPEC_RESOURCE = "/dev/genmesh/edge/openapi.yaml";
  /** Where the page's static files (swagger-ui's css and js) are served. */
  public static final String ASSETS = "/docs/assets/";
  private static final String WEBJAR_PROPERTIES = "/META-INF/maven/org.webjars/swagger-ui/pom.properties";

  private final Buffer spec;
  private final Buffer page;
  private final String webjarRoot;

  private ApiDocs(Buffer spec, Buffer page, String webjarRoot) {
    this.spec = spec;
    this.page = page;
    this.webjarRoot = webjarRoot;
  }

  /** Reads the contract and finds swagger-ui's files: blocking, once at start. */
  public static ApiDocs load() {
    Buffer spec = Buffer.buffer(read(SPEC_RESOURCE));
    Properties webjar = new Properties();
    try (InputStream in = new java.io.ByteArrayInputStream(read(WEBJAR_PROPERTIES))) {
      webjar.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String root = "META-INF/resources/webjars/swagger-ui/" + webjar.getProperty("version");
    return new ApiDocs(spec, Buffer.buffer(page(), StandardCharsets.UTF_8.name()), root);
  }

  public void mount(Router router) {
    router.get("/openapi.yaml").handler(this::spec);
    router.get("/docs").handler(this::page);
    // swagger-ui's files from the jar; a name it does not hold falls through to the JSON 404.
    router.get(ASSETS + "*").handler(StaticHandler.create(webjarRoot).setCachingEnabled(true).setMaxAgeSeconds(3600));
  }

  private void spec(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/yaml; charset=utf-8").putHeader("Cache-Control", "no-cache")
        .end(spec);
  }

  private void page(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").putHeader("Cache-Control", "no-cache")
        .end(page);
  }

  private static String page() {
    return """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>genmesh API reference</title>
          <link rel="stylesheet" href="%1$sswagger-ui.css">
        </head>
        <body>
          <div id="reference"></div>
          <script src="%1$sswagger-ui-bundle.js"></script>
          <script>
            window.onload = () => {
              window.ui = SwaggerUIBundle({url: "/openapi.yaml", dom_id: "#reference", deepLinking: true});
            };
          </script>
        </body>
        </html>
        """.formatted(ASSETS);
  }

  private static byte[] read(String resource) {
    try (InputStream in = ApiDocs.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing from the classpath: " + resource);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }
}
