package dev.ublkgateway.core.config;

import java.util.Collection;
import java.util.Locale;

/** Key naming and "did you mean" suggestions. */
final class Names {

    private Names() {}

    /** {@code maxIoBytes} → {@code max-io-bytes}, {@code useURLPath} → {@code use-url-path}. */
    static String kebab(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                boolean afterLower = i > 0 && (Character.isLowerCase(camel.charAt(i - 1))
                        || Character.isDigit(camel.charAt(i - 1)));
                boolean acronymEnd = i > 0 && Character.isUpperCase(camel.charAt(i - 1))
                        && i + 1 < camel.length() && Character.isLowerCase(camel.charAt(i + 1));
                if (afterLower || acronymEnd) {
                    sb.append('-');
                }
                sb.append(Character.toLowerCase(c));
            } else if (c == '_') {
                sb.append('-');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * The known name closest to {@code given} (case-insensitive, ignoring '-', '_' and a
     * transposed pair counts as one edit), or null if none is close enough.
     */
    static String closest(String given, Collection<String> known) {
        String g = normalize(given);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            String n = normalize(k);
            int d = distance(g, n);
            int allowed = Math.max(1, Math.min(3, Math.max(n.length(), g.length()) / 3));
            if (d <= allowed && d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    /** {@code ; did you mean "x"? (known: a, b)} or {@code ; <otherwise> (known: a, b)}. */
    static String suggestion(String given, Collection<String> known, String otherwise) {
        String list = "(known: " + String.join(", ", known) + ")";
        String near = closest(given, known);
        return near != null
                ? "did you mean \"" + near + "\"? " + list
                : otherwise + " " + list;
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    /** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int v = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2)
                        && a.charAt(i - 2) == b.charAt(j - 1)) {
                    v = Math.min(v, d[i - 2][j - 2] + 1);
                }
                d[i][j] = v;
            }
        }
        return d[a.length()][b.length()];
    }
}
