package dev.ublkgateway.plugins.s3.testing;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SDK's system properties for credentials, region, profile files and the STS endpoint, set for one
 * test and restored after it. Starts from a clean state: no keys, profile files that do not exist (not
 * this machine's ~/.aws), region us-east-1 and no instance metadata lookups.
 */
public final class AwsSystemProperties implements AutoCloseable {
    private static final List<String> NAMES = List.of("aws.accessKeyId", "aws.secretAccessKey", "aws.sessionToken",
            "aws.region", "aws.profile", "aws.configFile", "aws.sharedCredentialsFile", "aws.roleArn", "aws.roleSessionName",
            "aws.webIdentityTokenFile", "aws.endpointUrlSts", "aws.disableEc2Metadata");

    private final Map<String, String> saved = new HashMap<>();

    private AwsSystemProperties(Path dir) {
        for (String n : NAMES) {
            saved.put(n, System.getProperty(n));
            System.clearProperty(n);
        }
        set("aws.configFile", dir.resolve("no-config").toString());
        set("aws.sharedCredentialsFile", dir.resolve("no-credentials").toString());
        set("aws.region", "us-east-1");
        set("aws.disableEc2Metadata", "true");
    }

    /** Clean properties, with profile files under {@code dir} (absent until a test writes them). */
    public static AwsSystemProperties isolate(Path dir) {
        return new AwsSystemProperties(dir);
    }

    public AwsSystemProperties set(String name, String value) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException(name + " would not be restored; add it to NAMES");
        if (value == null) System.clearProperty(name); else System.setProperty(name, value);
        return this;
    }

    @Override
    public void close() {
        saved.forEach((n, v) -> {
            if (v == null) System.clearProperty(n); else System.setProperty(n, v);
        });
    }
}
