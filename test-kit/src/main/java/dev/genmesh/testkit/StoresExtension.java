package dev.genmesh.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests the {@link TestStores} of this JVM: started on first use, stopped when the test
 * run ends. Use {@code @ExtendWith(StoresExtension.class)} and take a {@code TestStores}
 * parameter in a {@code @BeforeAll}, {@code @BeforeEach} or test method.
 */
public final class StoresExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(StoresExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestStores.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(Started.class, key -> new Started(TestStores.start()), Started.class).stores;
  }

  /** Closed by JUnit when the root context closes, i.e. once, at the end of the run. */
  private record Started(TestStores stores) implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() throws Throwable {
      stores.close();
    }
  }
}
