package dev.ublkgateway.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a config record component of type {@link NestedSpec} (one component, a mapping with
 * {@code type:}) or {@code List<NestedSpec>} (a list of them) whose options are bound to the config
 * record of a codec or store type, with the same rules and messages as stages and targets. The
 * target opens what they name through its {@link ProviderContext}. (Since API 1.4.)
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Nested {
    /** "codec" or "store": which kind of provider the {@code type:} names. */
    String value();
}
