package dev.ublkgateway.core.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads YAML with Jackson's streaming parser into {@link YamlNode}s that keep the position of
 * every key and value. Anchors on mappings and lists, aliases to them and merge keys
 * ({@code <<: *defaults}) are supported; anchors on single values are not (Jackson's parser does
 * not report them), so an alias to one is reported as an unknown anchor. Duplicate keys and more
 * than one document are errors.
 */
final class YamlReader {

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .disable(YAMLParser.Feature.EMPTY_DOCUMENT_AS_EMPTY_OBJECT)
            .disable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .build();
    static final String MERGE_KEY = "<<";

    private final String source;
    private final Map<String, YamlNode> anchors = new HashMap<>();
    private JsonParser parser;

    private YamlReader(String source) {
        this.source = source;
    }

    /** The document's root, or null if the text holds no document or only an empty one. */
    static YamlNode read(String text, String source) {
        return new YamlReader(source).readDocument(text);
    }

    private YamlNode readDocument(String text) {
        controlCharacter(text);
        try (JsonParser p = FACTORY.createParser(text)) {
            parser = p;
            JsonToken first = p.nextToken();
            if (first == null) {
                return null;
            }
            YamlNode root = readValue();
            if (p.nextToken() != null) {
                throw error(p.currentTokenLocation(), "the file holds more than one YAML document",
                        "keep only one (remove the extra \"---\")");
            }
            return root instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.NULL ? null : root;
        } catch (ConfigException e) {
            throw e;
        } catch (JacksonException e) {
            throw syntaxError(e);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(source, 1, 1,
                    "cannot parse the file as YAML (" + e.getClass().getSimpleName() + ": "
                            + firstLine(e.getMessage()) + "); check the YAML syntax", e);
        }
    }

    /** Reads the value at the current token; leaves the parser on its last token. */
    private YamlNode readValue() throws IOException {
        JsonParser p = parser;
        JsonToken t = p.currentToken();
        JsonLocation loc = p.currentTokenLocation();
        int line = loc.getLineNr();
        int col = loc.getColumnNr();
        switch (t) {
            case START_OBJECT -> {
                String anchor = anchor();
                Map<String, YamlNode.Entry> entries = new LinkedHashMap<>();
                List<YamlNode.Entry> merges = new ArrayList<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    JsonLocation kl = p.currentTokenLocation();
                    p.nextToken();
                    YamlNode value = readValue();
                    YamlNode.Entry entry =
                            new YamlNode.Entry(key, kl.getLineNr(), kl.getColumnNr(), value);
                    if (key.equals(MERGE_KEY)) {
                        merges.add(entry);
                        continue;
                    }
                    YamlNode.Entry previous = entries.putIfAbsent(key, entry);
                    if (previous != null) {
                        throw error(kl, "duplicate key \"" + key + "\" (first at line "
                                + previous.line() + ")", "keep only one");
                    }
                }
                for (YamlNode.Entry m : merges) {
                    merge(entries, m);
                }
                return remember(anchor, new YamlNode.Mapping(
                        Collections.unmodifiableMap(entries), line, col));
            }
            case START_ARRAY -> {
                String anchor = anchor();
                List<YamlNode> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    items.add(readValue());
                }
                return remember(anchor, new YamlNode.Sequence(List.copyOf(items), line, col));
            }
            case VALUE_STRING -> {
                String text = p.getText();
                if (p instanceof YAMLParser yp && yp.isCurrentAlias()) {
                    YamlNode target = anchors.get(text);
                    if (target == null) {
                        throw error(loc, "unknown anchor in alias *" + text,
                                "define it first with &" + text
                                        + " on a mapping or list (anchors on single values are not supported)");
                    }
                    return target;
                }
                return new YamlNode.Scalar(YamlNode.Kind.STRING, text, text, line, col);
            }
            case VALUE_NUMBER_INT -> {
                Number n = p.getNumberValue();
                BigInteger v = n instanceof BigInteger b ? b : BigInteger.valueOf(n.longValue());
                return new YamlNode.Scalar(YamlNode.Kind.INT, p.getText(), v, line, col);
            }
            case VALUE_NUMBER_FLOAT -> {
                BigDecimal v;
                try {
                    v = p.getDecimalValue();
                } catch (NumberFormatException | JacksonException nanOrInfinity) {
                    v = null;
                }
                return new YamlNode.Scalar(YamlNode.Kind.FLOAT, p.getText(), v, line, col);
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new YamlNode.Scalar(YamlNode.Kind.BOOL, p.getText(),
                        t == JsonToken.VALUE_TRUE, line, col);
            }
            case VALUE_NULL -> {
                return new YamlNode.Scalar(YamlNode.Kind.NULL, p.getText(), null, line, col);
            }
            default -> throw error(loc, "unexpected YAML content (" + t + ")", "check the YAML syntax");
        }
    }

    /** Adds the entries of the mapping(s) named by a merge key that the mapping does not set. */
    private void merge(Map<String, YamlNode.Entry> entries, YamlNode.Entry merge) {
        List<YamlNode> sources = merge.value() instanceof YamlNode.Sequence s
                ? s.items() : List.of(merge.value());
        for (YamlNode source : sources) {
            if (!(source instanceof YamlNode.Mapping m)) {
                throw new ConfigException(this.source, source.line(), source.column(),
                        "merge key \"<<\" needs a mapping, not " + source.describe()
                                + "; use <<: *name with an anchor on a mapping");
            }
            m.entries().forEach(entries::putIfAbsent);
        }
    }

    private String anchor() throws IOException {
        Object id = parser.getObjectId();
        return id == null ? null : id.toString();
    }

    private YamlNode remember(String anchor, YamlNode node) {
        if (anchor != null) {
            anchors.put(anchor, node);
        }
        return node;
    }

    private ConfigException error(JsonLocation loc, String problem, String fix) {
        return new ConfigException(source, loc.getLineNr(), loc.getColumnNr(), problem + "; " + fix);
    }

    /** Turns Jackson's (multi-line) parse error into a one-line message at the problem's position. */
    private ConfigException syntaxError(JacksonException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof MarkedYAMLException m) {
                Mark mark = m.getProblemMark() != null ? m.getProblemMark() : m.getContextMark();
                StringBuilder problem = new StringBuilder("YAML syntax error: ");
                problem.append(m.getProblem() != null ? firstLine(m.getProblem()) : "invalid YAML");
                if (m.getContext() != null) {
                    problem.append(" (").append(firstLine(m.getContext()));
                    Mark at = m.getContextMark();
                    if (at != null && mark != null && at.getLine() != mark.getLine()) {
                        problem.append(" from line ").append(at.getLine() + 1)
                                .append(", column ").append(at.getColumn() + 1);
                    }
                    problem.append(")");
                }
                return new ConfigException(source,
                        mark == null ? 1 : mark.getLine() + 1, mark == null ? 1 : mark.getColumn() + 1,
                        problem + "; " + syntaxHint(m.getProblem()), e);
            }
        }
        JsonLocation loc = e.getLocation();
        int line = loc == null || loc.getLineNr() < 1 ? 1 : loc.getLineNr();
        int col = loc == null || loc.getColumnNr() < 1 ? 1 : loc.getColumnNr();
        String original = firstLine(e.getOriginalMessage());
        if (original.startsWith("Document nesting depth")) {
            return new ConfigException(source, line, col, "the YAML nests deeper than 1000 levels;"
                    + " flatten it (a configuration needs a handful)", e);
        }
        if (original.startsWith("Expected a field name")) {
            return new ConfigException(source, line, col, "a mapping key is a mapping or a list;"
                    + " use a plain name as the key", e);
        }
        return new ConfigException(source, line, col,
                "YAML syntax error: " + original + "; check the YAML syntax", e);
    }

    /**
     * Refuses control characters (YAML allows tab, line feed and carriage return only) at their own
     * position; the YAML parser would report them vaguely, at the start of the file.
     */
    private void controlCharacter(String text) {
        int line = 1, col = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
                col = 1;
                continue;
            }
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f || (c >= 0x80 && c <= 0x9f && c != 0x85)) {
                throw new ConfigException(source, line, col, String.format("control character U+%04X is not allowed"
                        + " in YAML; remove it, or write it as an escape (\\u%04X) in a double-quoted string", (int) c, (int) c));
            }
            col++;
        }
    }

    private static String syntaxHint(String problem) {
        if (problem != null && problem.contains("\\t")) {
            return "indent with spaces, not tabs";
        }
        if (problem != null && problem.contains("mapping values are not allowed")) {
            return "put a space after each \":\" and quote values that contain \": \"";
        }
        return "check the indentation and quoting at this position";
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return (nl < 0 ? t : t.substring(0, nl)).strip();
    }
}
