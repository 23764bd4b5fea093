package dev.ublkgateway.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Describes one option of a stage's or target's configuration record.
 *
 * <p>A configuration record is bound from the YAML mapping of a stage or target: each record
 * component is one option, written in YAML as the component name in kebab-case
 * ({@code maxOpenFiles} is {@code max-open-files}). Components without this annotation are
 * optional: when the key is absent the component receives {@code null} (or {@code 0} /
 * {@code false} for primitives) and the record's compact constructor applies its default. The
 * compact constructor validates values by throwing {@link IllegalArgumentException} with a
 * message that starts with the option name, e.g. {@code "port 70000 is out of range; use 1 to
 * 65535"}; the gateway then reports it at that option's position in the YAML file. The value of
 * any {@code String} or {@link java.nio.file.Path} option may contain {@code ${env:NAME}}, which is
 * replaced by the environment variable's value.
 *
 * <pre>
 * public record RemoteConfig(
 *         &#64;ConfigOption(required = true, description = "server host name") String host,
 *         &#64;ConfigOption(description = "server port", defaultValue = "10809") Integer port,
 *         &#64;ConfigOption(path = true, description = "CA certificates") String caFile,
 *         &#64;ConfigOption(secret = true, description = "API token") String token) {
 *
 *     public RemoteConfig {
 *         if (port == null) {
 *             port = 10809;
 *         }
 *         if (port &lt; 1 || port &gt; 65535) {
 *             throw new IllegalArgumentException("port " + port + " is out of range; use 1 to 65535");
 *         }
 *     }
 *
 *     &#64;Override
 *     public String toString() { // never show the token
 *         return ConfigRecords.redactedToString(this);
 *     }
 * }
 * </pre>
 *
 * and in YAML:
 *
 * <pre>
 * target:
 *   type: remote
 *   host: nas.local
 *   ca-file: certs/ca.pem        # relative to the YAML file
 *   token: ${env:NAS_TOKEN}      # or file:secrets/nas-token
 * </pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface ConfigOption {

    /**
     * The key must be present in the YAML mapping; a missing key is reported as an error naming
     * the option.
     */
    boolean required() default false;

    /**
     * A {@code String} component holding a file system path. A relative value is resolved against
     * the directory of the YAML file, so the component receives an absolute path when the file was
     * loaded from disk. (Components of type {@link java.nio.file.Path} are always resolved this
     * way.) Not allowed together with {@link #secret()}.
     */
    boolean path() default false;

    /**
     * A {@code String} component holding a secret (a password, token or key). The YAML value must
     * be a reference, never the secret itself:
     *
     * <ul>
     *   <li>{@code ${env:NAME}}: the value of environment variable {@code NAME};</li>
     *   <li>{@code file:PATH}: the contents of the file, without trailing line breaks;
     *       a relative {@code PATH} is resolved against the directory of the YAML file.</li>
     * </ul>
     *
     * An inline value is an error. The gateway never puts a secret's value into error messages.
     * A record with a secret component must override {@link Object#toString()} so that it does
     * not show the secret (the generated record {@code toString()} shows every component), e.g. with
     * {@link ConfigRecords#redactedToString(Record)}; the
     * gateway refuses to bind a record whose {@code toString()} shows a secret the way the
     * generated one does ({@code name=value}).
     */
    boolean secret() default false;

    /** One line describing the option, for documentation and {@code plugins info}. */
    String description() default "";

    /**
     * The default value as the user would write it in YAML, e.g. {@code "fdatasync"} or
     * {@code "512KiB"}, for documentation only: the binder does not apply it. The record's compact
     * constructor applies defaults. Empty when there is no default or it is not worth stating.
     */
    String defaultValue() default "";
}
