package dev.ublkgateway.core.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Checks every entry of a .jar or .zip before anything of it is used: PF4J unpacks a zip plugin into
 * the plugins directory, so an entry named {@code ../x} or {@code /etc/x} would be written outside it,
 * and an archive that inflates to gigabytes would fill the disk.
 */
final class ArchiveEntries {
    /** More files than any plugin with its dependencies shaded in needs. */
    static final int MAX_ENTRIES = 50_000;
    /** What the archive may inflate to, all entries together. */
    static final long MAX_BYTES = 512L << 20;

    private ArchiveEntries() {}

    /** Throws with one line naming the first unsafe entry, or the limit the archive exceeds. */
    static void check(String file, ZipFile zip) throws IOException {
        if (zip.size() > MAX_ENTRIES) {
            throw new IOException(file + " holds " + zip.size() + " entries, more than the " + MAX_ENTRIES
                    + " a plugin archive may hold; rebuild it with fewer files");
        }
        for (ZipEntry e : Collections.list(zip.entries())) {
            String why = unsafeName(e.getName());
            if (why != null) {
                throw new IOException(file + ": entry \"" + printable(e.getName()) + "\" " + why
                        + "; rebuild the archive with relative paths inside it");
            }
        }
        long declared = zip.stream().mapToLong(e -> Math.max(0, e.getSize())).sum();
        if (declared > MAX_BYTES) throw tooBig(file, declared + " bytes, more than");
        long total = 0;
        byte[] buf = new byte[64 << 10];
        for (ZipEntry e : Collections.list(zip.entries())) {
            if (e.isDirectory()) continue;
            // the sizes in the directory can lie: count what the entry really inflates to
            try (InputStream in = zip.getInputStream(e)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    total += n;
                    if (total > MAX_BYTES) throw tooBig(file, "more than");
                }
            } catch (java.util.zip.ZipException | java.io.EOFException x) {
                throw new IOException(file + ": entry \"" + printable(e.getName()) + "\" cannot be read (" + x.getMessage()
                        + "); the archive is damaged, build or download it again");
            }
        }
    }

    private static IOException tooBig(String file, String size) {
        return new IOException(file + " inflates to " + size + " the " + MAX_BYTES + " bytes (" + (MAX_BYTES >> 20)
                + " MiB) a plugin archive may hold; rebuild it smaller");
    }

    /** Null for a name that stays inside the folder it is unpacked into, else why it does not. */
    static String unsafeName(String name) {
        if (name.indexOf('\\') >= 0) return "has a backslash (an archive separates folders with /)";
        if (name.startsWith("/")) return "is an absolute path";
        if (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
            return "starts with a drive letter";
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) return "climbs out of the plugin's folder (..)";
        }
        if (name.chars().anyMatch(c -> c < 0x20)) return "has a control character in its name";
        return null;
    }

    /** The name as it can be shown on one line. */
    private static String printable(String name) {
        StringBuilder s = new StringBuilder();
        for (char c : name.toCharArray()) s.append(c < 0x20 ? '?' : c);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s.toString();
    }
}
