package dev.ublkgateway.core.config;

import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Converts YAML values to Java values, reporting problems at the value's position. */
final class Values {

    final String source;
    final Path baseDir;

    Values(String source, Path baseDir) {
        this.source = source;
        this.baseDir = baseDir;
    }

    ConfigException at(YamlNode node, String detail) {
        return new ConfigException(source, node.line(), node.column(), detail);
    }

    ConfigException at(YamlNode.Entry entry, String detail) {
        return new ConfigException(source, entry.line(), entry.column(), detail);
    }

    /** {@code queues "two" is not an integer; <fix>} or {@code queues is a list, not an integer; <fix>}. */
    ConfigException typeError(String key, YamlNode node, String what, String fix) {
        boolean scalar = node instanceof YamlNode.Scalar && !isEmpty(node);
        String problem = scalar
                ? key + " " + node.describe() + " is not " + what
                : key + " is " + node.describe() + ", not " + what;
        return at(node, problem + "; " + fix);
    }

    static boolean isNull(YamlNode node) {
        return node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.NULL;
    }

    /** A key without a value ({@code size:}); unlike a written {@code null} or {@code ~}. */
    static boolean isEmpty(YamlNode node) {
        return isNull(node) && ((YamlNode.Scalar) node).text().isEmpty();
    }

    /**
     * The text of any scalar as written: {@code 017}, {@code yes} and {@code null} are strings
     * here (so {@code type: null} names the null target); only an empty value is rejected.
     */
    String string(String key, YamlNode node, String fix) {
        if (node instanceof YamlNode.Scalar s && !isEmpty(node)) {
            return s.text();
        }
        throw typeError(key, node, "a string", fix);
    }

    boolean bool(String key, YamlNode node) {
        if (node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.BOOL) {
            return (Boolean) s.value();
        }
        throw typeError(key, node, "true or false", "use true or false");
    }

    long integer(String key, YamlNode node, long min, long max) {
        String range = "use a whole number from " + min + " to " + max;
        if (node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.INT) {
            BigInteger v = (BigInteger) s.value();
            if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
                throw at(node, key + " " + s.text() + " is out of range; " + range);
            }
            return v.longValue();
        }
        throw typeError(key, node, "an integer", range);
    }

    double decimal(String key, YamlNode node) {
        if (node instanceof YamlNode.Scalar s && (s.kind() == YamlNode.Kind.INT || s.kind() == YamlNode.Kind.FLOAT)) {
            try {
                return Double.parseDouble(s.text().replace("_", ""));
            } catch (NumberFormatException e) {
                return s.value() instanceof Number n ? n.doubleValue() : Double.NaN;
            }
        }
        throw typeError(key, node, "a number", "use a number, e.g. 1.5");
    }

    /** A size written as a number of bytes or with a unit ({@link Size#parse}). */
    Size size(String key, YamlNode node) {
        if (node instanceof YamlNode.Scalar s) {
            switch (s.kind()) {
                case INT -> {
                    BigInteger v = (BigInteger) s.value();
                    if (v.signum() >= 0 && v.bitLength() <= 63) {
                        return Size.of(v.longValue());
                    }
                    return parseSize(key, s, s.text());
                }
                case STRING, FLOAT -> {
                    return parseSize(key, s, s.text());
                }
                default -> { }
            }
        }
        throw typeError(key, node, "a size", Size.ACCEPTED);
    }

    private Size parseSize(String key, YamlNode node, String text) {
        try {
            return Size.parse(text);
        } catch (IllegalArgumentException e) {
            throw at(node, key + " " + e.getMessage());
        }
    }

    /** A file system path; relative paths are resolved against the configuration file's directory. */
    Path path(String key, YamlNode node) {
        String text = string(key, node, "use a file path, absolute or relative to the configuration file");
        if (text.isBlank()) {
            throw at(node, key + " is an empty path; use a file path, absolute or relative to the configuration file");
        }
        try {
            return baseDir.resolve(Path.of(text)).normalize();
        } catch (InvalidPathException e) {
            throw at(node, key + " " + node.describe() + " is not a valid path (" + e.getReason()
                    + "); use a file path, absolute or relative to the configuration file");
        }
    }
}
