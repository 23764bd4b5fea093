package dev.ublkgateway.core.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a component of a target config record. Unannotated components are optional: when the
 * key is absent the component receives null (or 0 / false for primitives) and the compact
 * constructor applies its default.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface TargetOption {

    /** The key must be present in the YAML. */
    boolean required() default false;

    /**
     * A {@code String} component holding a file path: a relative value is resolved against the
     * configuration file's directory (components of type {@link java.nio.file.Path} always are).
     */
    boolean path() default false;
}
