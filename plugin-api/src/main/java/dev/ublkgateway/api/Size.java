package dev.ublkgateway.api;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A non-negative number of bytes.
 *
 * <p>Accepted text forms ({@link #parse}): a decimal integer, optionally followed by a binary unit,
 * optionally separated from it by spaces: {@code 4096}, {@code 512KiB}, {@code 10GiB},
 * {@code 1 GiB}. Units (case-sensitive): {@code B}; {@code KiB}, {@code MiB}, {@code GiB},
 * {@code TiB}; and the short forms {@code K}, {@code M}, {@code G}, {@code T}, which are binary
 * too (1K = 1024). Rejected: negative numbers, fractions ({@code 1.5GiB}), decimal or unknown units
 * ({@code 10GB}, {@code 10Gb}), and values that do not fit in a {@code long}. A config record
 * component of this type is bound from such text, with the gateway's messages. (Since API 1.4.)
 */
public record Size(long bytes) implements Comparable<Size> {

    public static final long KiB = 1L << 10;
    public static final long MiB = 1L << 20;
    public static final long GiB = 1L << 30;
    public static final long TiB = 1L << 40;

    /** What to write instead of a malformed size; ends every {@link #parse} error message. */
    public static final String ACCEPTED = "use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB";

    private static final Pattern FORM =
            Pattern.compile("(-?)([0-9]+)(?:\\.([0-9]+))?[ \\t]*([A-Za-z]*)");
    private static final String[] UNIT_NAMES = {"B", "KiB", "MiB", "GiB", "TiB"};
    private static final long[] UNIT_BYTES = {1, KiB, MiB, GiB, TiB};

    public Size {
        if (bytes < 0) {
            throw new IllegalArgumentException("size " + bytes + " is negative; " + ACCEPTED);
        }
    }

    public static Size of(long bytes) {
        return new Size(bytes);
    }

    /**
     * Parses a size (see the class comment for the forms).
     *
     * @throws IllegalArgumentException with a one-line message that names the value and the
     *     accepted forms, e.g. {@code "10Gb" is not a size; use an integer with B, KiB, MiB, GiB or
     *     TiB, e.g. 10GiB}
     */
    public static Size parse(String text) {
        String quoted = quote(text);
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(quoted + " is not a size; " + ACCEPTED);
        }
        long unit = unitBytes(m.group(4));
        if (unit == 0) {
            throw new IllegalArgumentException(quoted + " is not a size; " + ACCEPTED);
        }
        if (!m.group(1).isEmpty()) {
            throw new IllegalArgumentException(quoted + " is negative; " + ACCEPTED);
        }
        if (m.group(3) != null) {
            BigDecimal exact = new BigDecimal(m.group(2) + "." + m.group(3)).multiply(BigDecimal.valueOf(unit));
            String hint = ACCEPTED;
            try {
                long whole = exact.longValueExact();
                hint = "use an integer with a smaller unit, e.g. " + compact(whole);
            } catch (ArithmeticException notWhole) {
                // keep the generic hint
            }
            throw new IllegalArgumentException(quoted + " is not a whole number; " + hint);
        }
        BigInteger value = new BigInteger(m.group(2)).multiply(BigInteger.valueOf(unit));
        if (value.bitLength() > 63) {
            throw new IllegalArgumentException(quoted + " is too large; " + ACCEPTED
                    + ", at most " + (Long.MAX_VALUE / TiB) + "TiB");
        }
        return new Size(value.longValue());
    }

    /** Bytes per unit, or 0 for an unknown unit. */
    private static long unitBytes(String unit) {
        return switch (unit) {
            case "", "B" -> 1;
            case "K", "KiB" -> KiB;
            case "M", "MiB" -> MiB;
            case "G", "GiB" -> GiB;
            case "T", "TiB" -> TiB;
            default -> 0;
        };
    }

    /** The size for humans, see {@link #format(long)}. */
    @Override
    public String toString() {
        return format(bytes);
    }

    @Override
    public int compareTo(Size other) {
        return Long.compare(bytes, other.bytes);
    }

    /**
     * Formats a byte count for humans with the largest binary unit not above it: {@code 10 GiB},
     * {@code 512 KiB}, {@code 1.5 GiB}, {@code 100 B}. Exact multiples print as integers; other
     * values are rounded to at most two decimals and always show a decimal point, so
     * {@code 4097} prints as {@code 4.0 KiB} (approximate) while {@code 4096} prints as
     * {@code 4 KiB} (exact).
     */
    public static String format(long bytes) {
        if (bytes < 0) {
            return bytes == Long.MIN_VALUE ? bytes + " B" : "-" + format(-bytes);
        }
        int i = UNIT_BYTES.length - 1;
        while (i > 0 && bytes < UNIT_BYTES[i]) {
            i--;
        }
        long unit = UNIT_BYTES[i];
        if (bytes % unit == 0) {
            return bytes / unit + " " + UNIT_NAMES[i];
        }
        BigDecimal value = BigDecimal.valueOf(bytes)
                .divide(BigDecimal.valueOf(unit), 2, RoundingMode.HALF_UP)
                .stripTrailingZeros();
        if (value.scale() <= 0) {
            value = value.setScale(1);
        }
        return value.toPlainString() + " " + UNIT_NAMES[i];
    }

    /** Exact form without a space, as the user would write it: {@code 1536MiB}. */
    public static String compact(long bytes) {
        for (int i = UNIT_BYTES.length - 1; i > 0; i--) {
            if (bytes >= UNIT_BYTES[i] && bytes % UNIT_BYTES[i] == 0) {
                return bytes / UNIT_BYTES[i] + UNIT_NAMES[i];
            }
        }
        return Long.toString(bytes);
    }

    /** The text in double quotes for a message, escaped and cut to 60 characters. */
    public static String quote(String text) {
        String t = text.length() > 60 ? text.substring(0, 57) + "..." : text;
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
