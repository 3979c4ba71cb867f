package dmasim.junit;

import dmasim.scenarios.Journal;
import dmasim.scenarios.Workbench;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Resolves {@link Chaos} parameters: one per test class, opened on first use (its journal, actor
 * system and runner) and closed after the class's last test. Use it through {@link DmasimChaos}.
 */
public final class DmasimExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(DmasimExtension.class);

  /** The system property naming the directory the per-class journals go under (default target/dmasim-junit). */
  public static final String DATA_DIR_PROPERTY = "dmasim.junit.dataDir";

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == Chaos.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    Class<?> testClass = classContext.getRequiredTestClass();
    return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(Open.class, k -> open(testClass), Open.class).chaos;
  }

  /** The context of the test class around {@code context} (a method, a parameterized invocation, or the class itself). */
  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) c = c.getParent().get();
    if (c.getTestClass().isEmpty()) throw new ParameterResolutionException("a Chaos parameter needs a test class");
    return c;
  }

  private static Open open(Class<?> testClass) {
    Path dir = Path.of(System.getProperty(DATA_DIR_PROPERTY, "target/dmasim-junit")).toAbsolutePath().resolve(testClass.getSimpleName());
    Workbench bench = new Workbench(Journal.h2(dir), "dmasim-junit", false, false);
    return new Open(bench, new Chaos(bench, dir));
  }

  /** What the class's store holds; closed by JUnit after the class. */
  private record Open(Workbench bench, Chaos chaos) implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      bench.close();
    }
  }
}
