package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reads one entry of the {@code devices:} list into a {@link DeviceConfig}: its keys, their values
 * and ranges, its frontend options and (through {@link ChainReader}) its stages and target.
 * Problems are recorded in {@link Values}; checking goes on past one wherever the rest of the
 * device can still be checked.
 */
final class DeviceReader {

    static final List<String> KEYS = List.of(
            "name", "size", "block-size", "queues", "depth", "max-io-size", "recovery", "stages", "target", "script",
            "frontend", "nbd-listen", "nbd-max-connections", "poll-us", "zero-copy", "batch-io", "tls", "tls-certificates", "tls-verify-peer",
            "tls-psk");
    private static final String NAME_RULE =
            "use 1 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit";
    private static final String TLS_MODES = "use off, on (TLS when the client asks) or require (TLS only)";
    private static final String LISTEN_FIX = "use unix:/path/to.sock or host:port, e.g. 127.0.0.1:10809";

    private final Values values;
    private final ChainReader chains;
    /** The top-level {@code script:}, for devices without their own; null when there is none. */
    private final ComponentSpec defaultScript;

    DeviceReader(Values values, ChainReader chains, ComponentSpec defaultScript) {
        this.values = values;
        this.chains = chains;
        this.defaultScript = defaultScript;
    }

    /** The device, or null when a problem was recorded. */
    DeviceConfig read(YamlNode item, int index) {
        if (!(item instanceof YamlNode.Mapping m)) {
            values.report(values.at(item, "device #" + index + " is " + item.describe()
                    + ", not a mapping; write each device as a mapping with name:, size: and target:"));
            return null;
        }
        int before = values.problemCount();
        YamlNode.Entry nameEntry = m.entry("name");
        String label = nameEntry != null && nameEntry.value() instanceof YamlNode.Scalar s
                && !Values.isEmpty(s) ? "device \"" + s.text() + "\"" : "device #" + index;
        for (YamlNode.Entry e : m.entries().values()) {
            if (!KEYS.contains(e.key())) {
                values.report(values.at(e, "unknown key \"" + e.key() + "\" in " + label + "; "
                        + Names.suggestion(e.key(), KEYS, "remove it")));
            }
        }

        String name = null;
        YamlNode nameNode = required(m, "name", label, "add name: <name>, e.g. name: data0");
        if (nameNode != null) {
            name = values.attempt(() -> name(nameNode));
        }
        Integer blockSize = optional(m, "block-size", DeviceConfig.DEFAULT_BLOCK_SIZE,
                node -> powerOfTwo("block-size", node, DeviceConfig.MIN_BLOCK_SIZE, DeviceConfig.MAX_BLOCK_SIZE,
                        "is not supported; use 512, 1024, 2048 or 4096"));
        YamlNode sizeNode = required(m, "size", label, "add size: <size>, e.g. size: 10GiB");
        Long size = null;
        if (sizeNode != null) {
            size = values.attempt(() -> size(sizeNode, blockSize));
        }
        Integer queues = optional(m, "queues", DeviceConfig.DEFAULT_QUEUES,
                node -> (int) values.integer("queues", node, 1, DeviceConfig.MAX_QUEUES));
        Integer depth = optional(m, "depth", DeviceConfig.DEFAULT_DEPTH,
                node -> (int) values.integer("depth", node, 1, DeviceConfig.MAX_DEPTH));
        Integer maxIo = optional(m, "max-io-size", DeviceConfig.DEFAULT_MAX_IO_BYTES,
                node -> powerOfTwo("max-io-size", node, DeviceConfig.MIN_MAX_IO_BYTES, DeviceConfig.MAX_MAX_IO_BYTES,
                        "is not a power of two from 4KiB to 32MiB; use e.g. 512KiB"));
        Boolean recovery = optional(m, "recovery", false, node -> values.bool("recovery", node));
        FrontendConfig frontend = values.attempt(() -> frontend(m));

        YamlNode.Entry st = m.entry("stages");
        List<ComponentSpec> stages = withScript(m, st == null ? List.of() : chains.stages(st.value(), label), label);
        ComponentSpec target = null;
        YamlNode targetNode = required(m, "target", label,
                "add target: with type: and the target's options, e.g. target: {type: memory}");
        if (targetNode != null) {
            target = values.attempt(() -> chains.target(targetNode, label));
        }
        chains.checkOrder(st == null ? null : st.value(), targetNode, label);

        if (values.problemCount() > before) {
            return null;
        }
        return new DeviceConfig(name, size, blockSize, queues, depth, maxIo, recovery, target, stages, frontend);
    }

    private String name(YamlNode node) {
        String n = values.string("name", node, NAME_RULE);
        if (!DeviceConfig.NAME.matcher(n).matches()) {
            throw values.at(node, "device name " + Size.quote(n) + " is invalid; " + NAME_RULE);
        }
        return n;
    }

    /** The stages with the device's script (or the top-level one) first, unless they name it already. */
    private List<ComponentSpec> withScript(YamlNode.Mapping m, List<ComponentSpec> stages, String label) {
        YamlNode.Entry scriptEntry = m.entry("script");
        ComponentSpec script = scriptEntry != null
                ? values.attempt(() -> chains.script(scriptEntry, label)) : defaultScript;
        if (script == null || stages.stream().anyMatch(s -> s.type().equals(script.type()))) {
            return stages;
        }
        List<ComponentSpec> withScript = new ArrayList<>(stages);
        withScript.addFirst(script); // the policy hook runs before the other stages
        return withScript;
    }

    /** frontend:, nbd-listen: (one address or a list), nbd-max-connections:, poll-us:, zero-copy: and batch-io:. */
    private FrontendConfig frontend(YamlNode.Mapping m) {
        String kind = "auto";
        YamlNode.Entry f = m.entry("frontend");
        if (f != null) {
            kind = values.string("frontend", f.value(), "use ublk, nbd or auto");
            if (!FrontendConfig.KINDS.contains(kind)) {
                throw values.at(f.value(), "frontend " + Size.quote(kind) + " is not known; use ublk, nbd or auto");
            }
        }
        List<String> listen = new ArrayList<>();
        YamlNode.Entry l = m.entry("nbd-listen");
        if (l != null) {
            List<YamlNode> items = l.value() instanceof YamlNode.Sequence seq ? seq.items() : List.of(l.value());
            for (YamlNode item : items) {
                String a = values.string("nbd-listen", item, LISTEN_FIX);
                try {
                    dev.ublkgateway.core.sys.Endpoint.parse(a, 0); // the syntax only: the frontend picks the default port
                } catch (IllegalArgumentException e) {
                    throw values.at(item, "nbd-listen " + e.getMessage() + "; " + LISTEN_FIX);
                }
                listen.add(a);
            }
        }
        int max = FrontendConfig.DEFAULT_NBD_MAX_CONNECTIONS;
        YamlNode.Entry mc = m.entry("nbd-max-connections");
        if (mc != null) max = (int) values.integer("nbd-max-connections", mc.value(), 1, 4096);
        YamlNode.Entry pu = m.entry("poll-us");
        int poll = pu == null ? FrontendConfig.DEFAULT.pollMicros() : (int) values.integer("poll-us", pu.value(), 0, FrontendConfig.MAX_POLL_MICROS);
        YamlNode.Entry zc = m.entry("zero-copy");
        boolean zeroCopy = zc == null || values.bool("zero-copy", zc.value());
        YamlNode.Entry bio = m.entry("batch-io");
        boolean batchIo = bio == null ? FrontendConfig.DEFAULT_BATCH_IO : values.bool("batch-io", bio.value());
        return new FrontendConfig(kind, listen, max, poll, tls(m), zeroCopy, batchIo);
    }

    /**
     * tls:, tls-certificates:, tls-verify-peer: and tls-psk:. The certificates are loaded here, so that
     * validate finds a missing file or a bad key, not the first client.
     */
    private NbdTlsConfig tls(YamlNode.Mapping m) {
        YamlNode.Entry t = m.entry("tls"), certs = m.entry("tls-certificates"), verify = m.entry("tls-verify-peer"),
                psk = m.entry("tls-psk");
        String mode = "off";
        if (t != null) {
            // YAML 1.1 readers take on/off for booleans; as written they are the modes of the same names
            mode = values.string("tls", t.value(), TLS_MODES);
            if (mode.equals("true")) mode = "on";
            if (mode.equals("false")) mode = "off";
            if (!NbdTlsConfig.MODES.contains(mode)) throw values.at(t.value(), "tls " + Size.quote(mode) + " is not known; " + TLS_MODES);
        }
        boolean verifyPeer = verify != null && values.bool("tls-verify-peer", verify.value());
        if (mode.equals("off")) {
            YamlNode.Entry stray = certs != null ? certs : verify != null ? verify : psk;
            if (stray != null) {
                throw values.at(stray, stray.key() + " is set but tls is off; add tls: on (or require), or remove "
                        + stray.key());
            }
            return NbdTlsConfig.OFF;
        }
        if (certs != null && psk != null) {
            throw values.at(psk, "tls-psk and tls-certificates are both set; use one: certificates, or pre-shared keys");
        }
        if (psk != null) {
            if (verify != null) throw values.at(verify, "tls-verify-peer is for certificates; with tls-psk every client "
                    + "proves its key: remove tls-verify-peer");
            java.nio.file.Path file = values.path("tls-psk", psk.value());
            try {
                dev.ublkgateway.core.tls.PskKeys.load(file);
            } catch (IllegalArgumentException e) {
                throw values.at(psk.value(), e.getMessage());
            }
            return new NbdTlsConfig(mode, null, false, file);
        }
        if (certs == null) {
            throw values.at(t, "tls: " + mode + " needs credentials; add tls-certificates: DIR (holding server-cert.pem "
                    + "and server-key.pem) or tls-psk: FILE (psktool's USERNAME:HEXKEY lines)");
        }
        java.nio.file.Path dir = values.path("tls-certificates", certs.value());
        try {
            dev.ublkgateway.core.tls.ServerCredentials.load(dir, verifyPeer);
        } catch (IllegalArgumentException e) {
            throw values.at(certs.value(), e.getMessage());
        }
        return new NbdTlsConfig(mode, dir, verifyPeer);
    }

    private long size(YamlNode sizeNode, Integer blockSize) {
        long size = values.size("size", sizeNode).bytes();
        if (size == 0) {
            throw values.at(sizeNode, "size " + sizeNode.describe() + " is zero; use a positive size, e.g. 10GiB");
        }
        if (blockSize != null && size % blockSize != 0) {
            long down = size / blockSize * blockSize;
            long up = down + blockSize; // negative when the next multiple is beyond the largest size
            String options = down == 0 ? Size.compact(up)
                    : up < 0 ? Size.compact(down) : Size.compact(down) + " or " + Size.compact(up);
            throw values.at(sizeNode, "size " + sizeNode.describe() + " is not a multiple of block-size "
                    + blockSize + "; use a multiple, e.g. " + options);
        }
        return size;
    }

    /** A size that must be a power of two in {@code min..max}; {@code problem} follows "KEY VALUE " otherwise. */
    private int powerOfTwo(String key, YamlNode node, int min, int max, String problem) {
        long v = values.size(key, node).bytes();
        if (!DeviceConfig.isPowerOfTwo(v) || v < min || v > max) {
            throw values.at(node, key + " " + node.describe() + " " + problem);
        }
        return (int) v;
    }

    /** The value of an optional key: {@code absent} without it, null after recording a problem with it. */
    private <T> T optional(YamlNode.Mapping m, String key, T absent, Function<YamlNode, T> read) {
        YamlNode.Entry e = m.entry(key);
        return e == null ? absent : values.attempt(() -> read.apply(e.value()));
    }

    /** The value of a required key, or null after recording that it is missing. */
    private YamlNode required(YamlNode.Mapping m, String key, String label, String fix) {
        YamlNode.Entry e = m.entry(key);
        if (e == null) {
            values.report(values.at(m, label + " has no \"" + key + "\"; " + fix));
            return null;
        }
        return e.value();
    }
}
