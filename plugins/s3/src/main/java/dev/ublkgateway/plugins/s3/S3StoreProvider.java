package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import org.pf4j.Extension;

import java.io.IOException;

/** The {@code s3} object store. */
@Extension
public final class S3StoreProvider implements ObjectStoreProvider<S3Config> {
    @Override
    public String name() {
        return "s3";
    }

    @Override
    public String description() {
        return "objects in an S3 bucket (AWS or S3-compatible: endpoint, region, prefix, path-style), with retries and time limits";
    }

    @Override
    public Class<S3Config> configType() {
        return S3Config.class;
    }

    @Override
    public ObjectStore open(S3Config config) throws IOException {
        return S3ObjectStore.open(config);
    }
}
