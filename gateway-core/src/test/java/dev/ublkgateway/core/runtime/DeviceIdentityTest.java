package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.config.ComponentTypes;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.DeviceConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class DeviceIdentityTest {
    record Stats() {}
    record Limit(int iops) {}
    record Xts(String keyfile) {}

    private static final ComponentTypes TYPES = ComponentTypes.builtIn().withStage("stats", Stats.class)
            .withStage("rate-limit", Limit.class).withStage("aes-xts", Xts.class);

    private static Map<String, String> id(String device) {
        DeviceConfig d = ConfigLoader.parse("devices:\n  - " + device + "\n", "/etc/ublk/v.yaml", TYPES).devices().getFirst();
        return DeviceIdentity.of(d);
    }

    private static Optional<String> change(String before, String after) {
        return DeviceIdentity.change("v", id(before), id(after));
    }

    private static final String BASE = "{name: v, size: 1GiB, recovery: true, target: {type: file, path: /d/v.img}";

    @Test
    void transparentStagesMayComeGoAndChange() {
        String plain = BASE + "}";
        String watched = BASE + ", stages: [{type: stats}, {type: rate-limit, iops: 100}]}";
        String throttled = BASE + ", stages: [{type: rate-limit, iops: 500}]}";
        assertEquals(Optional.empty(), change(plain, watched));
        assertEquals(Optional.empty(), change(watched, throttled));
        assertEquals(Optional.empty(), change(throttled, plain));
    }

    @Test
    void targetSizeAndDataStagesMustStay() {
        String plain = BASE + "}";
        String msg = change(plain, "{name: v, size: 1GiB, recovery: true, target: {type: file, path: /d/other.img}}").orElseThrow();
        assertTrue(msg.startsWith("the target of v would change (file /d/v.img #"), msg);
        assertTrue(msg.contains("-> file /d/other.img #"), msg);
        assertTrue(msg.endsWith("undo that change, or re-create the device (down, up)"), msg);
        assertTrue(change(plain, "{name: v, size: 2GiB, recovery: true, target: {type: file, path: /d/v.img}}")
                .orElseThrow().startsWith("the size of v would change (1073741824 -> 2147483648)"));
        assertTrue(change(plain, "{name: v, size: 1GiB, recovery: true, target: {type: file, path: /d/v.img, direct: true}}")
                .orElseThrow().startsWith("the target of v"));
        assertTrue(change(plain, "{name: v, size: 1GiB, target: {type: file, path: /d/v.img}}")
                .orElseThrow().startsWith("the recovery setting of v would change (true -> false)"));
        String encrypted = BASE + ", stages: [{type: aes-xts, keyfile: /k1}]}";
        assertTrue(change(plain, encrypted).orElseThrow().startsWith("the data-changing stages of v would change (none -> aes-xts #"));
        assertTrue(change(encrypted, BASE + ", stages: [{type: aes-xts, keyfile: /k2}]}").isPresent());
        // the same options in another order are the same component
        assertEquals(Optional.empty(), change("{name: v, size: 1GiB, recovery: true, target: {type: file, path: /d/v.img, direct: true}}",
                "{name: v, size: 1GiB, recovery: true, target: {direct: true, path: /d/v.img, type: file}}"));
    }

    @Test
    void aNullTargetKeepsItsWholeChain() {
        String bare = "{name: v, size: 1GiB, recovery: true, target: {type: null}}";
        assertTrue(change(bare, "{name: v, size: 1GiB, recovery: true, target: {type: null}, stages: [{type: stats}]}")
                .orElseThrow().startsWith("the data-changing stages of v"));
    }

    @Test
    void aRequestWithoutAnAspectIsRefused() {
        Map<String, String> running = id(BASE + "}");
        Map<String, String> partial = new java.util.LinkedHashMap<>(running);
        partial.remove("queues");
        assertTrue(DeviceIdentity.change("v", running, partial).orElseThrow().contains("(1 -> unknown)"));
    }
}
