package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/** A parsed YAML value that remembers where it was written (1-based line and column). */
sealed interface YamlNode {

    int line();

    int column();

    /**
     * For messages: {@code "two"}, {@code 1.5}, {@code null}, {@code a mapping}, {@code a list},
     * {@code empty} (a key without a value).
     */
    default String describe() {
        return switch (this) {
            case Scalar s when s.kind() == Kind.STRING -> Size.quote(s.text());
            case Scalar s when s.kind() == Kind.NULL -> s.text().isEmpty() ? "empty" : s.text();
            case Scalar s -> s.text();
            case Mapping m -> "a mapping";
            case Sequence q -> "a list";
        };
    }

    default JsonNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (this) {
            case Scalar s -> s.scalarJson();
            case Mapping m -> {
                ObjectNode o = f.objectNode();
                m.entries().forEach((k, e) -> o.set(k, e.value().toJson()));
                yield o;
            }
            case Sequence q -> {
                ArrayNode a = f.arrayNode();
                q.items().forEach(i -> a.add(i.toJson()));
                yield a;
            }
        };
    }

    enum Kind { STRING, INT, FLOAT, BOOL, NULL }

    /**
     * A scalar. {@code text} is the text as written (for {@code yes} or {@code 0x10} too);
     * {@code value} is a String, BigInteger, BigDecimal, Boolean or null according to the kind.
     */
    record Scalar(Kind kind, String text, Object value, int line, int column) implements YamlNode {
        private JsonNode scalarJson() {
            JsonNodeFactory f = JsonNodeFactory.instance;
            return switch (kind) {
                case STRING -> f.textNode(text);
                case INT -> {
                    BigInteger v = (BigInteger) value;
                    if (v.bitLength() < 32) {
                        yield f.numberNode(v.intValue());
                    } else if (v.bitLength() < 64) {
                        yield f.numberNode(v.longValue());
                    }
                    yield f.numberNode(v);
                }
                case FLOAT -> f.numberNode((BigDecimal) value);
                case BOOL -> f.booleanNode((Boolean) value);
                case NULL -> f.nullNode();
            };
        }
    }

    /** A key of a mapping, with its own position, and its value. */
    record Entry(String key, int line, int column, YamlNode value) {}

    /** A mapping; entries keep their order. Merged entries ({@code <<: *x}) are included. */
    record Mapping(Map<String, Entry> entries, int line, int column) implements YamlNode {
        Entry entry(String key) {
            return entries.get(key);
        }

        /** The options of a component's mapping as written: every key but {@code type}. */
        ObjectNode options() {
            ObjectNode o = (ObjectNode) toJson();
            o.remove("type");
            return o;
        }
    }

    record Sequence(List<YamlNode> items, int line, int column) implements YamlNode {}
}
