package dev.ublkgateway.core.stages.script;

import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.proxy.ProxyArray;
import org.graalvm.polyglot.proxy.ProxyExecutable;
import org.graalvm.polyglot.proxy.ProxyObject;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * The host functions the prelude turns into the {@code gateway} object: the only calls from a script
 * into the gateway. Arguments arrive as polyglot values and are checked here; results are strings,
 * numbers and booleans only (structured values travel as JSON).
 */
final class HostApi implements ProxyObject {
    private final Map<String, ProxyExecutable> functions;

    HostApi(DeviceScope scope) {
        functions = Map.ofEntries(
                Map.entry("log", a -> {
                    scope.log(str(a, 0), str(a, 1));
                    return null;
                }),
                Map.entry("now", a -> System.nanoTime() / 1e6),
                Map.entry("count", a -> scope.count(str(a, 0), a[1].fitsInLong() ? a[1].asLong() : (long) a[1].asDouble())),
                Map.entry("counters", a -> json(scope.counters())),
                Map.entry("stateGet", a -> scope.stateGet(str(a, 0))),
                Map.entry("stateSet", a -> {
                    scope.stateSet(str(a, 0), str(a, 1));
                    return null;
                }),
                Map.entry("stateDelete", a -> scope.stateDelete(str(a, 0))),
                Map.entry("stateKeys", a -> scope.stateKeys().stream().map(HostApi::quote)
                        .collect(Collectors.joining(",", "[", "]"))),
                Map.entry("tag", a -> scope.tag(str(a, 0))),
                Map.entry("setRateLimit", a -> {
                    scope.setRateLimit(a[0].asLong(), a[1].asLong());
                    return null;
                }),
                Map.entry("rateLimit", a -> scope.rateLimitJson()),
                Map.entry("setReadOnly", a -> {
                    scope.setReadOnly(a[0].asBoolean());
                    return null;
                }),
                Map.entry("readOnly", a -> scope.readOnly()));
    }

    private static String str(Value[] a, int i) {
        return a.length > i && a[i].isString() ? a[i].asString() : String.valueOf(a.length > i ? a[i] : "");
    }

    static String json(Map<String, ?> m) {
        return m.entrySet().stream().map(e -> quote(e.getKey()) + ":" + e.getValue())
                .collect(Collectors.joining(",", "{", "}"));
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    @Override
    public Object getMember(String key) {
        return functions.get(key);
    }

    @Override
    public Object getMemberKeys() {
        return ProxyArray.fromArray((Object[]) functions.keySet().toArray(new String[0]));
    }

    @Override
    public boolean hasMember(String key) {
        return functions.containsKey(key);
    }

    @Override
    public void putMember(String key, Value value) {
        throw new UnsupportedOperationException("the host API is read-only");
    }
}
