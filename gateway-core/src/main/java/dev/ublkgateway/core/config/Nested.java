package dev.ublkgateway.core.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a config record component of type {@link ComponentSpec} or {@link NestedSpec} (one
 * component, a mapping with {@code type:}) or a {@code List} of them whose options are bound to
 * the config record of a codec or store type, with the same rules and messages as stages and
 * targets.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Nested {
    /** "codec" or "store": which types of {@link ComponentTypes} the {@code type:} names. */
    String value();
}
