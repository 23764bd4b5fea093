package dev.ublkgateway.plugins.s3;

import java.io.IOException;

/** Opens the store at an endpoint with the SDK's default chain, in a JVM of its own (for environment variables). */
public final class CredentialsProbe {
    public static void main(String[] args) {
        try (S3ObjectStore s = S3ObjectStore.open(S3Config.of(args[0], "vol", null, null))) {
            System.out.println("opened " + s.config().bucket());
        } catch (IOException e) {
            System.out.println(e.getMessage());
            System.exit(1);
        }
    }
}
