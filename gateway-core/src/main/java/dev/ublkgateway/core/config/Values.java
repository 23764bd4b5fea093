package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts YAML values to Java values, reporting problems at the value's position. The conversion
 * methods throw {@link ConfigException}; {@link #attempt} records the problem instead so that
 * checking can go on, and {@link #problems} holds what was recorded.
 */
final class Values {

    /** {@code ${env:NAME}}, or <code>$${</code> for a literal <code>${</code>. */
    private static final Pattern ENV_REF = Pattern.compile("\\$\\$\\{|\\$\\{env:([^}]*)}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final String FILE_PREFIX = "file:";
    private static final String ENV_FIX = "use ${env:NAME} with a variable name of letters, digits and '_'";

    final String source;
    final Path baseDir;
    private final Function<String, String> environment;
    private final List<ConfigException> problems = new ArrayList<>();

    /** Stands for a secret that is not available where the file is checked; compared by identity. */
    @SuppressWarnings("StringOperationCanBeSimplified")
    static final String SECRET_NOT_HERE = new String("(secret not available here)");

    /** True when the file is checked away from where the gateway runs (`validate`): see {@link #secret}. */
    private final boolean secretsElsewhere;
    private final List<String> notes = new ArrayList<>();

    Values(String source, Path baseDir, Function<String, String> environment) {
        this(source, baseDir, environment, false);
    }

    Values(String source, Path baseDir, Function<String, String> environment, boolean secretsElsewhere) {
        this.source = source;
        this.baseDir = baseDir;
        this.environment = environment;
        this.secretsElsewhere = secretsElsewhere;
    }

    /** Things worth knowing that are not problems, e.g. a secret that cannot be checked here. */
    List<String> notes() {
        return notes;
    }

    /** Records a note at {@code node} and returns {@link #SECRET_NOT_HERE}. */
    private String secretNotHere(YamlNode node, String note) {
        notes.add(at(node, "note: " + note).getMessage());
        return SECRET_NOT_HERE;
    }

    /**
     * The fix for an unset variable. sudo starts commands with a clean environment, so under sudo the
     * variable was most likely set in the shell and dropped on the way.
     */
    private String unsetFix(String name, String otherwise) {
        if (environment.apply("SUDO_USER") == null) return otherwise;
        return " sudo does not pass the environment on: run `sudo -E` or `sudo --preserve-env=" + name + "`";
    }

    /** Records a problem; checking goes on. */
    void report(ConfigException problem) {
        problems.add(problem);
    }

    /** Runs a step, recording its problem instead of throwing it: null when it failed. */
    <T> T attempt(Supplier<T> step) {
        try {
            return step.get();
        } catch (ConfigException e) {
            report(e);
            return null;
        }
    }

    /** How many problems were recorded so far; compare to tell whether a part had any. */
    int problemCount() {
        return problems.size();
    }

    List<ConfigException> problems() {
        return problems;
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

    /** A string option: any scalar, with {@code ${env:NAME}} references replaced. */
    String option(String key, YamlNode node, String fix) {
        return withEnvironment(key, node, string(key, node, fix));
    }

    /**
     * A file system path option ({@code ${env:NAME}} references replaced); relative paths are
     * resolved against the configuration file's directory.
     */
    Path path(String key, YamlNode node) {
        String fix = "use a file path, absolute or relative to the configuration file";
        String text = option(key, node, fix);
        if (text.isBlank()) {
            throw at(node, key + " is an empty path; " + fix);
        }
        try {
            return baseDir.resolve(Path.of(text)).normalize();
        } catch (InvalidPathException e) {
            throw at(node, key + " " + Size.quote(text) + " is not a valid path (" + e.getReason() + "); " + fix);
        }
    }

    /** Replaces each {@code ${env:NAME}} in a string option by the variable's value. */
    private String withEnvironment(String key, YamlNode node, String text) {
        if (!text.contains("${")) {
            return text;
        }
        Matcher m = ENV_REF.matcher(text);
        StringBuilder sb = new StringBuilder(text.length());
        while (m.find()) {
            String replacement;
            if (m.group(1) == null) {
                replacement = "${";
            } else {
                replacement = variable(key, node, m.group(1));
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private String variable(String key, YamlNode node, String name) {
        if (!ENV_NAME.matcher(name).matches()) {
            throw at(node, "option \"" + key + "\" refers to an environment variable with an invalid name; "
                    + ENV_FIX);
        }
        String value = environment.apply(name);
        if (value == null) {
            throw at(node, "environment variable " + name + " (option \"" + key + "\") is not set;"
                    + unsetFix(name, " set it for the gateway or change the option"));
        }
        return value;
    }

    /**
     * A secret option: the value must be {@code ${env:NAME}} or {@code file:PATH}. No message
     * shows the value as written (it may be the secret) nor the secret.
     */
    String secret(String key, YamlNode node) {
        String inline = "option \"" + key + "\" is a secret: reference it as ${env:NAME} or file:/path, never inline";
        if (!(node instanceof YamlNode.Scalar s) || s.kind() != YamlNode.Kind.STRING) {
            throw at(node, inline);
        }
        String text = s.text().strip();
        String value;
        if (text.startsWith("${env:") && text.endsWith("}") && text.indexOf('}') == text.length() - 1) {
            String name = text.substring("${env:".length(), text.length() - 1);
            if (!ENV_NAME.matcher(name).matches()) {
                throw at(node, "option \"" + key + "\" is a secret with a malformed reference; " + ENV_FIX);
            }
            value = environment.apply(name);
            if (value == null && secretsElsewhere) {
                return secretNotHere(node, "secret ${env:" + name + "} is not set here; it must be set where the gateway runs");
            }
            if (value == null) {
                String sudo = unsetFix(name, null);
                throw at(node, "environment variable " + name + " (secret option \"" + key + "\") is not set;"
                        + (sudo == null ? " set it for the gateway or reference another variable"
                        : sudo + ", or use a file: secret"));
            }
            if (value.isEmpty()) {
                throw at(node, "environment variable " + name + " (secret option \"" + key + "\") is empty;"
                        + " set it to the secret");
            }
        } else if (text.startsWith(FILE_PREFIX)) {
            value = secretFile(key, node, text.substring(FILE_PREFIX.length()));
        } else {
            throw at(node, inline);
        }
        return value;
    }

    private String secretFile(String key, YamlNode node, String pathText) {
        String fix = "check the path (absolute or relative to the configuration file) and its permissions";
        if (pathText.isBlank()) {
            throw at(node, "secret option \"" + key + "\" names no file; use file:/path");
        }
        Path file;
        try {
            file = baseDir.resolve(Path.of(pathText)).normalize();
        } catch (InvalidPathException e) {
            throw at(node, "secret option \"" + key + "\" names an invalid path (" + e.getReason() + "); " + fix);
        }
        String what = "secret file " + Size.quote(file.toString()) + " (option \"" + key + "\")";
        if (Files.isDirectory(file)) {
            throw at(node, what + " is a directory; name the file that holds the secret");
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            if (secretsElsewhere) return secretNotHere(node, "secret file:" + pathText + " does not exist here; "
                    + "it must be readable where the gateway runs");
            throw at(node, what + " cannot be read (no such file); " + fix);
        } catch (AccessDeniedException e) {
            if (secretsElsewhere) return secretNotHere(node, "secret file:" + pathText + " cannot be read here "
                    + "(permission denied); it must be readable where the gateway runs");
            throw at(node, what + " cannot be read (permission denied); " + fix);
        } catch (CharacterCodingException e) {
            throw at(node, what + " is not valid UTF-8; save the secret as UTF-8 text");
        } catch (IOException | RuntimeException e) {
            throw at(node, what + " cannot be read (" + e.getClass().getSimpleName() + "); " + fix);
        }
        int end = text.length();
        while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
            end--;
        }
        if (end == 0) {
            throw at(node, what + " is empty; write the secret into it");
        }
        return text.substring(0, end);
    }
}
