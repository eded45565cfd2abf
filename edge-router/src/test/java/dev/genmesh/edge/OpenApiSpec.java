package dev.genmesh.edge;

import dev.genmesh.edge.docs.impl.ApiDocs;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.yaml.snakeyaml.Yaml;

/**
 * openapi.yaml, parsed, as a checker of real answers: is this status declared for this operation,
 * is the content type one it declares, are its required headers there, and does a JSON body match
 * its schema (JSON Schema 2020-12, as OpenAPI 3.1 says, with vertx-json-schema). Also the set of
 * {@code METHOD /path} the document describes, to compare with a router's.
 */
final class OpenApiSpec {
  private static final String BASE = "https://genmesh.dev/openapi.yaml";
  private static final List<String> METHODS = List.of("get", "head", "post", "put", "patch", "delete", "options");

  final JsonObject document;
  private final SchemaRepository schemas;

  OpenApiSpec(JsonObject document) {
    this.document = document;
    this.schemas = SchemaRepository.create(new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri(BASE)
        .setOutputFormat(OutputFormat.Basic));
    schemas.dereference(BASE, JsonSchema.of(document.copy()));
  }

  /** The document the edge serves, from its classpath. */
  static OpenApiSpec load() {
    try (InputStream in = OpenApiSpec.class.getResourceAsStream(ApiDocs.SPEC_RESOURCE)) {
      Object yaml = new Yaml().load(in);
      return new OpenApiSpec(new JsonObject(Json.encode(yaml)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A copy without this path: a route "missing from the spec". */
  OpenApiSpec without(String path) {
    JsonObject copy = document.copy();
    copy.getJsonObject("paths").remove(path);
    return new OpenApiSpec(copy);
  }

  /** Every {@code METHOD /path} the document describes. */
  Set<String> operations() {
    Set<String> out = new TreeSet<>();
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : METHODS) {
        if (paths.getJsonObject(path).containsKey(method)) {
          out.add(method.toUpperCase(Locale.ROOT) + " " + path);
        }
      }
    }
    return out;
  }

  /**
   * Every {@code METHOD /path} a router answers with a handler of its own, {@code :param} written
   * {@code {param}}: not the method-less guards (they run before routes), not wildcard mounts.
   */
  static Set<String> routes(Router router, Predicate<String> internal) {
    Set<String> out = new TreeSet<>();
    for (Route route : router.getRoutes()) {
      String path = route.getPath();
      if (path == null) {
        continue; // a regex route: none at the edge
      }
      boolean wildcard = !route.isExactPath() && !path.contains(":"); // "/docs/assets/*" reads "/docs/assets/"
      if (wildcard || route.methods() == null || route.methods().isEmpty() || internal.test(path)) {
        continue;
      }
      String template = path.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
      route.methods().forEach(method -> out.add(method.name() + " " + template));
    }
    return out;
  }

  /** What is wrong with this answer to {@code METHOD template}; empty when it keeps the contract. */
  List<String> check(String method, String template, int status, MultiMap headers, Buffer body) {
    List<String> problems = new ArrayList<>();
    String where = method + " " + template + " -> " + status;
    JsonObject operation = document.getJsonObject("paths").getJsonObject(template, new JsonObject())
        .getJsonObject(method.toLowerCase(Locale.ROOT));
    if (operation == null) {
      return List.of(where + ": no such operation in openapi.yaml");
    }
    String pointer = "/paths/" + escape(template) + "/" + method.toLowerCase(Locale.ROOT) + "/responses/" + status;
    JsonObject response = operation.getJsonObject("responses").getJsonObject(Integer.toString(status));
    if (response == null) {
      return List.of(where + ": status not declared");
    }
    if (response.containsKey("$ref")) {
      pointer = response.getString("$ref").substring(1);
      response = resolve(pointer);
    }
    JsonObject declaredHeaders = response.getJsonObject("headers", new JsonObject());
    for (String header : declaredHeaders.fieldNames()) {
      JsonObject declared = declaredHeaders.getJsonObject(header);
      if (declared.containsKey("$ref")) {
        declared = resolve(declared.getString("$ref").substring(1));
      }
      if (declared.getBoolean("required", false) && headers.get(header) == null) {
        problems.add(where + ": required header " + header + " missing");
      }
    }
    JsonObject content = response.getJsonObject("content");
    boolean hasBody = body != null && body.length() > 0 && !"HEAD".equals(method);
    if (content == null) {
      if (hasBody && status != 302) {
        problems.add(where + ": a body where the contract declares none");
      }
      return problems;
    }
    String type = headers.get("Content-Type") == null ? "" : headers.get("Content-Type").split(";")[0].trim();
    if (!"HEAD".equals(method) && status != 101 && !content.containsKey(type)) {
      problems.add(where + ": content type '" + type + "' not declared (" + content.fieldNames() + ")");
      return problems;
    }
    if (type.equals("application/json") && hasBody) {
      Object instance;
      try {
        instance = Json.decodeValue(body);
      } catch (RuntimeException e) {
        return List.of(where + ": body is not JSON: " + body);
      }
      checkSchema(pointer + "/content/" + escape(type) + "/schema", instance)
          .forEach(problem -> problems.add(where + ": body does not match its schema, " + problem));
    }
    return problems;
  }

  /** Every status {@code METHOD template} declares. */
  Set<Integer> statuses(String operation) {
    String[] parts = operation.split(" ", 2);
    JsonObject responses = document.getJsonObject("paths").getJsonObject(parts[1])
        .getJsonObject(parts[0].toLowerCase(Locale.ROOT)).getJsonObject("responses");
    Set<Integer> out = new TreeSet<>();
    responses.fieldNames().forEach(status -> out.add(Integer.parseInt(status)));
    return out;
  }

  private JsonObject resolve(String pointer) {
    Object node = document;
    for (String token : pointer.substring(1).split("/")) {
      node = ((JsonObject) node).getValue(token.replace("~1", "/").replace("~0", "~"));
    }
    return (JsonObject) node;
  }

  /** A JSON pointer token, as the schema repository keys it (braces URL-encoded). */
  private static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D");
  }

  /** What is wrong with {@code instance} against the schema at this pointer (a WebSocket frame, say). */
  List<String> checkSchema(String pointer, Object instance) {
    OutputUnit result = schemas.validator(JsonSchema.of(new JsonObject().put("$ref", BASE + "#" + pointer))).validate(instance);
    if (Boolean.TRUE.equals(result.getValid())) {
      return List.of();
    }
    StringBuilder why = new StringBuilder(pointer + ": does not match:");
    (result.getErrors() == null ? List.of(result) : result.getErrors()).forEach(error -> why.append("\n  ")
        .append(error.getInstanceLocation()).append(": ").append(error.getError()));
    return List.of(why.append("\n  instance: ").append(instance).toString());
  }
}
