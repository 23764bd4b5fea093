package dev.ublkgateway.core.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pre-shared keys in the file format of GnuTLS's psktool, which nbdkit's --tls-psk and qemu read too:
 * one {@code username:hexkey} per line. Errors are one line naming the file, the line and the fix.
 */
public final class PskKeys {
    private static final String FIX = "write one USERNAME:HEXKEY per line, as `psktool -u USERNAME -p FILE` does";

    private PskKeys() {}

    public static Map<String, byte[]> load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("tls-psk file " + file + " does not exist; " + FIX);
        } catch (IOException e) {
            throw new IllegalArgumentException("tls-psk file " + file + " cannot be read (" + e.getMessage()
                    + "); make it readable by the gateway's user");
        }
        Map<String, byte[]> keys = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            int colon = line.lastIndexOf(':');
            String where = "tls-psk file " + file + " line " + (i + 1);
            if (colon <= 0 || colon == line.length() - 1) throw new IllegalArgumentException(where + " is not USERNAME:HEXKEY; " + FIX);
            String user = line.substring(0, colon), hex = line.substring(colon + 1);
            byte[] key;
            try {
                key = HexFormat.of().parseHex(hex);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": the key of " + user + " is not hexadecimal; " + FIX);
            }
            if (key.length < 16) {
                throw new IllegalArgumentException(where + ": the key of " + user + " is " + key.length
                        + " bytes, fewer than 16; make a new one with psktool (32 bytes by default)");
            }
            if (keys.put(user, key) != null) throw new IllegalArgumentException(where + ": user " + user + " appears twice; keep one line per user");
        }
        if (keys.isEmpty()) throw new IllegalArgumentException("tls-psk file " + file + " holds no keys; " + FIX);
        return keys;
    }
}
