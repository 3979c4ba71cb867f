package dmasim.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.provider.ArgumentsSource;
import org.junit.jupiter.params.support.AnnotationConsumer;

/**
 * Seeds for a {@code @ParameterizedTest}: {@code count} consecutive seeds from {@code from}. Each
 * invocation is named by its seed, so a failing one says which seed to replay.
 *
 * <pre>{@code
 * @ParameterizedTest(name = "seed {0}")
 * @SeedSource(count = 20)
 * void survives(long seed, Chaos chaos) { ... }
 * }</pre>
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ArgumentsSource(SeedSource.Provider.class)
public @interface SeedSource {
  long from() default 1;

  int count() default 20;

  /** Provides the seeds of a {@link SeedSource}. */
  final class Provider implements ArgumentsProvider, AnnotationConsumer<SeedSource> {
    private long from;
    private int count;

    @Override
    public void accept(SeedSource source) {
      if (source.count() < 1) throw new IllegalArgumentException("@SeedSource count must be at least 1");
      from = source.from();
      count = source.count();
    }

    @Override
    public Stream<? extends Arguments> provideArguments(ExtensionContext context) {
      return LongStream.range(from, from + count).mapToObj(Arguments::of);
    }
  }
}
