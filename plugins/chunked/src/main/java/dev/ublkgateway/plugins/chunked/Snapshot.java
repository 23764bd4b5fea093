package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * A snapshot's manifest, object {@code snapshots/<name>.map}: an immutable copy of the chunk map (every
 * chunk's generation, so every chunk object it needs is {@link StoreLayer#key(long, long)}), stored
 * through the volume's codecs like the map (authenticated on an encrypted volume, and bound to its name).
 * The manifest describes itself: a text header (name, creation time, volume id, size, chunk size, format)
 * and then the map in {@link ChunkMap}'s layout, so a later tool (a clone) needs nothing else.
 */
record Snapshot(String name, long created, long counter, long[] gens, long size) {
    static final String PREFIX = "snapshots/", SUFFIX = ".map";
    /** Where the CLI asks a serving gateway for a snapshot (see {@link SnapshotRequests}). */
    static final String REQUESTS = "snapshots/requests/";
    private static final String MAGIC = "ublk-gateway snapshot 1\n";
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    static String key(String name) {
        return PREFIX + name + SUFFIX;
    }

    /** The snapshot a key of {@link #key} names, or null. */
    static String nameOf(String key) {
        if (!key.startsWith(PREFIX) || !key.endsWith(SUFFIX)) return null;
        String n = key.substring(PREFIX.length(), key.length() - SUFFIX.length());
        return NAME.matcher(n).matches() ? n : null;
    }

    static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.endsWith(SUFFIX)) {
            throw new IllegalArgumentException("snapshot name '" + name + "' is not valid; use 1-64 letters, digits, '.', '_' or '-',"
                    + " starting with a letter or digit");
        }
    }

    boolean references(long index, long gen) {
        return index < gens.length && gens[(int) index] == gen; // shorter: taken before the volume grew
    }

    long chunksWithData() {
        return Arrays.stream(gens).filter(g -> g != 0).count();
    }

    /** The manifest's plain bytes (before the codecs): the header, a blank line, the map. */
    static byte[] plain(String name, long created, VolumeMeta meta, byte[] map) {
        String h = MAGIC + "name=" + name + "\ncreated=" + created + "\nvolume-id=" + java.util.HexFormat.of().formatHex(meta.volumeId())
                + "\nsize=" + meta.size() + "\nchunk-size=" + meta.chunkSize() + "\nformat=" + meta.format() + "\nmap-bytes=" + map.length
                + "\n\n";
        byte[] head = h.getBytes(StandardCharsets.UTF_8);
        byte[] out = Arrays.copyOf(head, head.length + map.length);
        System.arraycopy(map, 0, out, head.length, map.length);
        return out;
    }

    /** The most bytes a manifest of {@code chunks} chunks decodes to. */
    static int maxPlain(long chunks) {
        return 4096 + 24 + 8 * (int) chunks;
    }

    /** Parses a manifest and checks it belongs to snapshot {@code expected} of the volume {@code meta} describes. */
    static Snapshot parse(byte[] plain, String expected, VolumeMeta meta) throws IOException {
        String bad = "the manifest of snapshot " + expected + " is damaged";
        int end = -1;
        for (int i = 0; i + 1 < plain.length && i < 4096; i++) {
            if (plain[i] == '\n' && plain[i + 1] == '\n') {
                end = i + 2;
                break;
            }
        }
        String head = end < 0 ? "" : new String(plain, 0, end, StandardCharsets.UTF_8);
        if (!head.startsWith(MAGIC)) throw new IOException(bad + " (no manifest header)");
        Properties p = new Properties();
        p.load(new StringReader(head.substring(MAGIC.length())));
        if (!expected.equals(p.getProperty("name"))) {
            throw new IOException("the manifest of snapshot " + expected + " is snapshot " + p.getProperty("name") + "'s: a renamed object");
        }
        if (!java.util.HexFormat.of().formatHex(meta.volumeId()).equals(p.getProperty("volume-id"))) {
            throw new IOException("the manifest of snapshot " + expected + " belongs to another volume");
        }
        try {
            long chunks = Math.ceilDiv(meta.size(), meta.chunkSize());
            ChunkMap.Stored m = ChunkMap.parse(plain, end, plain.length - end, chunks);
            return new Snapshot(expected, Long.parseLong(p.getProperty("created")), m.counter(), m.gens(),
                    Long.parseLong(p.getProperty("size")));
        } catch (RuntimeException e) {
            throw new IOException(bad + " (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new IOException(bad + " (" + e.getMessage() + ")");
        }
    }
}
