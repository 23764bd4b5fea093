package dev.ublkgateway.core.cli;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A store of volumes named by a URL, each volume under its own name, as the YAML {@code store:} option of
 * a chunked device would say it:
 * <ul>
 *   <li>{@code dir:PATH}: store type {@code directory}, volume NAME in {@code PATH/NAME};</li>
 *   <li>{@code s3://BUCKET[/PREFIX][?OPTION=VALUE&...]}: store type {@code s3}, volume NAME under key prefix
 *   {@code PREFIX/NAME/}; OPTION is any option of the s3 store (endpoint, region, path-style, profile,
 *   access-key-id, ...), secrets written as in YAML ({@code ${env:NAME}} or {@code file:PATH}).</li>
 * </ul>
 */
record StoreUrl(String url, String type, Map<String, String> options, String location) {

    static StoreUrl parse(String url) {
        if (url.startsWith("dir:") || url.startsWith("directory:")) {
            String path = url.substring(url.indexOf(':') + 1);
            if (path.isEmpty()) throw usage(url, "it names no directory");
            String abs = Path.of(path).toAbsolutePath().normalize().toString();
            return new StoreUrl(url, "directory", new LinkedHashMap<>(Map.of("path", abs)), abs.endsWith("/") ? abs : abs + "/");
        }
        if (url.startsWith("s3://")) {
            String rest = url.substring(5);
            String query = "";
            int q = rest.indexOf('?');
            if (q >= 0) {
                query = rest.substring(q + 1);
                rest = rest.substring(0, q);
            }
            int slash = rest.indexOf('/');
            String bucket = slash < 0 ? rest : rest.substring(0, slash);
            String prefix = slash < 0 ? "" : rest.substring(slash + 1);
            if (bucket.isEmpty()) throw usage(url, "it names no bucket");
            if (!prefix.isEmpty() && !prefix.endsWith("/")) prefix += "/";
            Map<String, String> o = new LinkedHashMap<>();
            o.put("bucket", bucket);
            o.put("prefix", prefix);
            for (String kv : query.split("&")) {
                if (kv.isEmpty()) continue;
                int eq = kv.indexOf('=');
                if (eq <= 0) throw usage(url, "\"" + kv + "\" is not OPTION=VALUE");
                String k = URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8);
                if (k.equals("bucket") || k.equals("prefix")) throw usage(url, k + " is part of the URL, not an option");
                o.put(k, URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
            return new StoreUrl(url, "s3", o, "s3://" + bucket + "/" + prefix);
        }
        if (url.startsWith("memory:")) {
            throw usage(url, "a memory store lives only inside one gateway process");
        }
        throw usage(url, "use dir:PATH or s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&...]");
    }

    private static IllegalArgumentException usage(String url, String why) {
        return new IllegalArgumentException("--store " + url + " is not a store URL: " + why);
    }

    /** The store options of volume {@code name}. */
    Map<String, String> forVolume(String name) {
        Map<String, String> o = new LinkedHashMap<>(options);
        if (type.equals("directory")) o.put("path", Path.of(options.get("path")).resolve(name).toString());
        else o.put("prefix", options.get("prefix") + name + "/");
        return o;
    }

    /** The store as YAML lines ({@code type} first), indented by {@code indent}. */
    static String yaml(String type, Map<String, String> options, String indent) {
        StringBuilder b = new StringBuilder(indent).append("type: ").append(quote(type)).append('\n');
        for (var e : options.entrySet()) b.append(indent).append(e.getKey()).append(": ").append(quote(e.getValue())).append('\n');
        return b.toString();
    }

    /** A YAML scalar: plain when it is a simple word (so true and 16 stay a boolean and a number), else double-quoted. */
    static String quote(String s) {
        if (s.matches("[A-Za-z0-9._/@+-][A-Za-z0-9._/:@+-]*") && !s.endsWith(":")) return s;
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
