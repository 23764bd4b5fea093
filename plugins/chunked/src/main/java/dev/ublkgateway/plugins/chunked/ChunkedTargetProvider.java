package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetProvider;
import dev.ublkgateway.api.Volume;
import org.pf4j.Extension;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Target type {@code chunked}: a volume of chunk objects in an object store, through chunk codecs. The
 * store and the codecs come from whichever plugins provide their types, through the gateway's
 * {@link ProviderContext}.
 */
@Extension
public final class ChunkedTargetProvider implements TargetProvider<ChunkedTargetConfig> {
    public String name() { return "chunked"; }

    public String description() { return "fixed-size chunks in an object store, with a write-back cache and chunk codecs"; }

    public Class<ChunkedTargetConfig> configType() { return ChunkedTargetConfig.class; }

    public Target open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering) throws IOException {
        throw new IOException("device " + d.name() + ": the chunked target needs a gateway that offers a provider context"
                + " (plugin API 1.4 or later)");
    }

    @Override
    public Target open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering, ProviderContext context) throws IOException {
        List<String> names = new ArrayList<>();
        List<ChunkedTarget.CodecFactory> codecs = new ArrayList<>();
        for (NestedSpec cs : c.codecs()) {
            names.add(cs.type());
            codecs.add(info -> context.createCodec(cs, d, info));
        }
        ObjectStore store = context.openStore(c.store());
        try {
            return ChunkedTarget.open(c, d, recovering, context.forceTakeover(), store, names, codecs, context.progress());
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** The volume {@code name} in the configured store: see {@link ChunkedVolume}. */
    @Override
    public Volume volume(ChunkedTargetConfig c, String name, ProviderContext context) {
        return new ChunkedVolume(c, name, context);
    }
}
