package dev.ublkgateway.core.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ublkgateway.core.config.ComponentSpec;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.FileTargetConfig;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a live upgrade must keep of a device, so that the next gateway reads the same data the same way:
 * size, block size, queue layout, recovery, the target with its options, and every stage that may
 * change the data (e.g. encryption). Stages that only watch, throttle or refuse requests (stats,
 * rate-limit, read-only, fault, script) may be added, removed or changed; a null target keeps its
 * whole chain (its device was created without a data path when it has no stages). Options are
 * compared by a hash of their canonical form, so secrets written inline never leave the process.
 */
public final class DeviceIdentity {
    /** Stages that pass the data through unchanged. */
    static final Set<String> TRANSPARENT = Set.of("stats", "rate-limit", "read-only", "fault", "script");

    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private static final Map<String, String> WHAT = Map.of(
            "size", "size", "block-size", "block size", "queues", "number of queues", "depth", "queue depth",
            "max-io", "max I/O size", "recovery", "recovery setting", "target", "target",
            "data-stages", "data-changing stages");

    private DeviceIdentity() {}

    public static Map<String, String> of(DeviceConfig d) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("size", Long.toString(d.sizeBytes()));
        m.put("block-size", Integer.toString(d.blockSize()));
        m.put("queues", Integer.toString(d.queues()));
        m.put("depth", Integer.toString(d.depth()));
        m.put("max-io", Integer.toString(d.maxIoBytes()));
        m.put("recovery", Boolean.toString(d.recovery()));
        m.put("target", component(d.target(), true));
        boolean nullTarget = d.target().type().equals("null");
        m.put("data-stages", d.stages().stream().filter(s -> nullTarget || !TRANSPARENT.contains(s.type()))
                .map(s -> component(s, false)).collect(Collectors.joining(" > ")));
        return m;
    }

    /**
     * Why a device serving as {@code running} cannot be handed to a gateway configured as {@code next}:
     * the first aspect that differs, in one sentence; empty when none does.
     */
    public static Optional<String> change(String name, Map<String, String> running, Map<String, String> next) {
        for (var e : running.entrySet()) {
            String n = next.get(e.getKey());
            if (n != null && n.equals(e.getValue())) continue;
            String what = WHAT.getOrDefault(e.getKey(), e.getKey());
            return Optional.of("the " + what + " of " + name + " would change (" + shown(e.getValue()) + " -> "
                    + shown(n) + "); a live upgrade keeps it: undo that change, or re-create the device (down, up)");
        }
        return Optional.empty();
    }

    private static String shown(String v) {
        return v == null ? "unknown" : v.isEmpty() ? "none" : v;
    }

    private static String component(ComponentSpec s, boolean target) {
        String label = s.type();
        if (target && s.config() instanceof FileTargetConfig f) label = "file " + f.file();
        return label + " #" + hash(s);
    }

    private static String hash(ComponentSpec s) {
        try {
            Object tree = CANONICAL.convertValue(s.options(), Map.class);
            byte[] canonical = CANONICAL.writeValueAsBytes(Map.of("type", s.type(), "options", tree));
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical);
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
