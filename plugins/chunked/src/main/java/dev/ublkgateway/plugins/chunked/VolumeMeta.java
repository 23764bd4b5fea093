package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.Volume;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The volume's metadata object ({@code volume.meta}, a small properties text): format version, size,
 * chunk size, codec list, volume id, KDF salt and a key check value (a fixed block encoded through the
 * codecs, which only the right key and codec settings decode), and when it was created (epoch milliseconds;
 * 0 in metadata written before the field existed), whether the import that creates it is still under way
 * ({@code import=incomplete}: written with the first metadata of an import and removed when its chunk map is stored,
 * so an import that was killed leaves a volume that says so instead of one that looks whole), and a clone's
 * parent (volume, snapshot and volume id).
 */
record VolumeMeta(int format, long size, long chunkSize, String codecs, byte[] volumeId, byte[] kdfSalt, byte[] keyCheck,
                  long created, boolean importing, Volume.Parent parent) {
    VolumeMeta(int format, long size, long chunkSize, String codecs, byte[] volumeId, byte[] kdfSalt, byte[] keyCheck,
               long created, Volume.Parent parent) {
        this(format, size, chunkSize, codecs, volumeId, kdfSalt, keyCheck, created, false, parent);
    }

    VolumeMeta(int format, long size, long chunkSize, String codecs, byte[] volumeId, byte[] kdfSalt, byte[] keyCheck,
               long created, boolean importing) {
        this(format, size, chunkSize, codecs, volumeId, kdfSalt, keyCheck, created, importing, null);
    }

    VolumeMeta(int format, long size, long chunkSize, String codecs, byte[] volumeId, byte[] kdfSalt, byte[] keyCheck, long created) {
        this(format, size, chunkSize, codecs, volumeId, kdfSalt, keyCheck, created, false, null);
    }

    /** A copy with another size (a grow) or parent (null: a flattened clone). */
    VolumeMeta with(long newSize, Volume.Parent newParent) {
        return new VolumeMeta(format, newSize, chunkSize, codecs, volumeId, kdfSalt, keyCheck, created, importing, newParent);
    }

    static final int FORMAT = 2;
    static final String KEY = "volume.meta";

    /** The same metadata with the import marked finished (or not). */
    VolumeMeta importing(boolean on) {
        return new VolumeMeta(format, size, chunkSize, codecs, volumeId, kdfSalt, keyCheck, created, on, parent);
    }

    /** The one-line refusal for a volume whose import did not finish. */
    static String incomplete(String volume) {
        return "volume " + volume + ": incomplete import (the import that created it stopped before it finished); delete it"
                + " (ublk-gateway volume delete) and import again";
    }

    byte[] toBytes() {
        HexFormat hex = HexFormat.of();
        String s = "# ublk-gateway chunked volume\n"
                + "format=" + format + "\n"
                + "size=" + size + "\n"
                + "chunk-size=" + chunkSize + "\n"
                + "codecs=" + codecs + "\n"
                + "volume-id=" + hex.formatHex(volumeId) + "\n"
                + "kdf-salt=" + hex.formatHex(kdfSalt) + "\n"
                + "key-check=" + hex.formatHex(keyCheck) + "\n"
                + "created=" + created + "\n"
                + (importing ? "import=incomplete\n" : "")
                // a clone: the parent volume (its name and id) and the snapshot of it whose chunks it reads
                + (parent == null ? "" : "parent=" + parent.volume() + "\nparent-snapshot=" + parent.snapshot()
                        + "\nparent-id=" + parent.volumeId() + "\n");
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static VolumeMeta parse(byte[] data) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(new String(data, StandardCharsets.UTF_8)));
        try {
            HexFormat hex = HexFormat.of();
            return new VolumeMeta(Integer.parseInt(p.getProperty("format")), Long.parseLong(p.getProperty("size")),
                    Long.parseLong(p.getProperty("chunk-size")), p.getProperty("codecs", ""),
                    hex.parseHex(p.getProperty("volume-id")), hex.parseHex(p.getProperty("kdf-salt")),
                    hex.parseHex(p.getProperty("key-check")), Long.parseLong(p.getProperty("created", "0")),
                    "incomplete".equals(p.getProperty("import")),
                    p.getProperty("parent") == null ? null
                            : new Volume.Parent(p.getProperty("parent"), p.getProperty("parent-snapshot"), p.getProperty("parent-id")));
        } catch (RuntimeException e) {
            throw new IOException("the volume metadata object " + KEY + " is damaged (" + e.getMessage() + ")");
        }
    }
}
