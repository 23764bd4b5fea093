package dev.ublkgateway.plugins.s3;

import java.io.IOException;

/** Opens the store at an endpoint (args: endpoint [profile]), in a JVM of its own: for environment variables and HOME. */
public final class CredentialsProbe {
    public static void main(String[] args) {
        S3Config c = S3Config.of(args[0], "vol", null, null);
        if (args.length > 1) c = c.withProfile(args[1]);
        try (S3ObjectStore s = S3ObjectStore.open(c)) {
            System.out.println("opened " + s.config().bucket());
        } catch (IOException e) {
            System.out.println(e.getMessage());
            System.exit(1);
        }
    }
}
