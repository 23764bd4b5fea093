package dev.ublkgateway.core.chunk;

import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetProvider;
import dev.ublkgateway.core.config.NestedSpec;
import dev.ublkgateway.core.plugins.PluginHost;
import org.pf4j.Extension;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Target type {@code chunked}: a volume of chunk objects in an object store, through chunk codecs. */
@Extension
public final class ChunkedTargetProvider implements TargetProvider<ChunkedTargetConfig> {
    private volatile PluginHost host;

    /** Where the codec and store providers are found; set by the chain factory before {@link #open}. */
    public void host(PluginHost host) {
        this.host = host;
    }

    /** {@code up --force-takeover}: take over leases held by gateways that are gone. */
    public static void forceTakeover(boolean on) {
        Lease.forceTakeover = on;
    }

    public static boolean forceTakeoverRequested() {
        return Lease.forceTakeover;
    }

    public String name() { return "chunked"; }

    public String description() { return "fixed-size chunks in an object store, with a write-back cache and chunk codecs"; }

    public Class<ChunkedTargetConfig> configType() { return ChunkedTargetConfig.class; }

    @SuppressWarnings("unchecked")
    public Target open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering) throws IOException {
        PluginHost h = host;
        if (h == null) throw new IOException("device " + d.name() + ": the chunked target was opened without its plugin host");
        NestedSpec s = c.store();
        ObjectStoreProvider<Record> sp = (ObjectStoreProvider<Record>) h.find("store", s.type()).orElseThrow(() -> new IOException(
                "device " + d.name() + ": store type \"" + s.type() + "\" is not provided by any loaded plugin")).provider();
        List<String> names = new ArrayList<>();
        List<ChunkedTarget.CodecFactory> codecs = new ArrayList<>();
        for (NestedSpec cs : c.codecs()) {
            ChunkCodecProvider<Record> cp = (ChunkCodecProvider<Record>) h.find("codec", cs.type()).orElseThrow(() -> new IOException(
                    "device " + d.name() + ": codec type \"" + cs.type() + "\" is not provided by any loaded plugin")).provider();
            names.add(cs.type());
            codecs.add(info -> cp.create(cs.config(), d, info));
        }
        ObjectStore store = sp.open(s.config());
        try {
            return ChunkedTarget.open(c, d, recovering, store, names, codecs);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }
}
