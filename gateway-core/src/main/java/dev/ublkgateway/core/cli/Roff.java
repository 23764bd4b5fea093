package dev.ublkgateway.core.cli;

/** Builds a man page in roff (the man macros): text is escaped so a dot or backslash in it stays text. */
final class Roff {
    private final StringBuilder sb = new StringBuilder(4096);

    Roff(String title, int section, String source, String manual) {
        sb.append(".TH ").append(quoted(title)).append(' ').append(section).append(" \"\" ")
                .append(quoted(source)).append(' ').append(quoted(manual)).append('\n');
    }

    Roff section(String name) {
        return macro(".SH", name);
    }

    Roff subsection(String name) {
        return macro(".SS", name);
    }

    Roff paragraph(String text) {
        sb.append(".PP\n");
        return line(text);
    }

    /** A tagged paragraph: the tag in bold (an option or key), then its text indented. */
    Roff item(String tag, String text) {
        sb.append(".TP\n\\fB").append(escape(tag)).append("\\fR\n");
        return line(text);
    }

    /** Lines shown as they are (no filling), e.g. a YAML example. */
    Roff literal(String text) {
        sb.append(".PP\n.nf\n");
        for (String l : text.split("\n", -1)) line(l);
        sb.append(".fi\n");
        return this;
    }

    Roff line(String text) {
        sb.append(escape(text)).append('\n');
        return this;
    }

    private Roff macro(String macro, String arg) {
        sb.append(macro).append(' ').append(quoted(arg)).append('\n');
        return this;
    }

    private static String quoted(String s) {
        return "\"" + escape(s).replace("\"", "\\(dq") + "\"";
    }

    /** Backslashes and hyphens escaped; a leading dot or quote would start a request, so it is guarded. */
    static String escape(String s) {
        String e = s.replace("\\", "\\e").replace("-", "\\-");
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
