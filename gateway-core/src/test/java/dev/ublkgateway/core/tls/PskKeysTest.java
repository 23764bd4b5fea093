package dev.ublkgateway.core.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** psktool's USERNAME:HEXKEY files: what is read, and a one-line error for each mistake. */
class PskKeysTest {
    @TempDir
    Path tmp;

    private static final String KEY = "b925f1f27f2bb22cefbe8771f0a23ce33e24535596463a966e9d1f4ffd3de4da";

    private String error(String content) throws Exception {
        Path f = tmp.resolve("k.psk");
        Files.writeString(f, content);
        String m = assertThrows(IllegalArgumentException.class, () -> PskKeys.load(f)).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void readsUsersAndKeys() throws Exception {
        Path f = tmp.resolve("k.psk");
        Files.writeString(f, "alice:" + KEY + "\n\nbob:" + KEY.toUpperCase() + "\n");
        Map<String, byte[]> keys = PskKeys.load(f);
        assertEquals(2, keys.size());
        assertArrayEquals(HexFormat.of().parseHex(KEY), keys.get("alice"));
        assertArrayEquals(HexFormat.of().parseHex(KEY), keys.get("bob"));
    }

    @Test
    void mistakesNameTheLineAndTheFix() throws Exception {
        String m = error("alice:" + KEY + "\njust-a-name\n");
        assertTrue(m.contains("line 2 is not USERNAME:HEXKEY") && m.contains("psktool"), m);
        m = error("alice:nothex!\n");
        assertTrue(m.contains("line 1: the key of alice is not hexadecimal"), m);
        m = error("alice:00ff\n");
        assertTrue(m.contains("the key of alice is 2 bytes, fewer than 16"), m);
        m = error("alice:" + KEY + "\nalice:" + KEY + "\n");
        assertTrue(m.contains("line 2: user alice appears twice"), m);
        assertTrue(error("\n").contains("holds no keys"));
        m = assertThrows(IllegalArgumentException.class, () -> PskKeys.load(tmp.resolve("none"))).getMessage();
        assertTrue(m.contains("none does not exist"), m);
    }
}
