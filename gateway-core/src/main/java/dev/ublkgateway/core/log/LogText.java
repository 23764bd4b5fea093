package dev.ublkgateway.core.log;

/**
 * Makes text that came from outside (a script, a client, a file) safe to put in one log line: control
 * characters and line separators are shown escaped, so no one can forge a line, and the length is capped.
 */
public final class LogText {
    /** The default cap on characters taken from one untrusted message. */
    public static final int MAX_CHARS = 1024;

    private LogText() {}

    public static String oneLine(String s) {
        return oneLine(s, MAX_CHARS);
    }

    public static String oneLine(String s, int maxChars) {
        if (s == null) return "null";
        int n = Math.min(s.length(), maxChars);
        StringBuilder sb = null;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!unsafe(c)) {
                if (sb != null) sb.append(c);
                continue;
            }
            if (sb == null) sb = new StringBuilder(n + 16).append(s, 0, i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(String.format("\\u%04x", (int) c));
            }
        }
        String out = sb == null ? s.substring(0, n) : sb.toString();
        return s.length() > maxChars ? out + "... (" + (s.length() - maxChars) + " more characters)" : out;
    }

    /** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
    private static boolean unsafe(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }
}
