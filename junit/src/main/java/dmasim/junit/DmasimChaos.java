package dmasim.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a chaos suite: its test methods may take a {@link Chaos} parameter to explore dmasim
 * scenarios. One actor system and one embedded journal serve the whole class; the journal lives in
 * {@code target/dmasim-junit/CLASS} (or under the directory named by the system property
 * {@code dmasim.junit.dataDir}), where a failing exploration keeps its violating runs for
 * {@code dmasim replay}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(DmasimExtension.class)
public @interface DmasimChaos {}
