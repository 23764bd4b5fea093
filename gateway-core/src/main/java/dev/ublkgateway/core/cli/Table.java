package dev.ublkgateway.core.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Rows printed in columns as wide as their longest entry, so that long names and NBD URIs keep the
 * columns aligned. The last column is not padded (no trailing blanks).
 */
final class Table {
    private final String[] header;
    private final Set<Integer> rightAligned;
    private final List<String[]> rows = new ArrayList<>();

    /** @param rightAligned the indexes of numeric columns, aligned on their last digit */
    Table(Set<Integer> rightAligned, String... header) {
        this.header = header;
        this.rightAligned = rightAligned;
    }

    Table add(Object... cells) {
        if (cells.length != header.length) throw new IllegalArgumentException("a row needs " + header.length + " cells");
        String[] row = new String[cells.length];
        for (int i = 0; i < cells.length; i++) row[i] = String.valueOf(cells[i]);
        rows.add(row);
        return this;
    }

    void print(PrintStream out) {
        int[] width = new int[header.length];
        List<String[]> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (String[] r : all) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                if (i > 0) line.append("  ");
                boolean last = i == r.length - 1;
                String pad = " ".repeat(width[i] - r[i].length());
                if (rightAligned.contains(i)) line.append(pad).append(r[i]);
                else line.append(r[i]).append(last ? "" : pad);
            }
            out.println(line);
        }
    }
}
